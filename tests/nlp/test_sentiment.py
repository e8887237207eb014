"""The shipped sentiment model: plain arrays, loaded without pickle, reading plain praise and
complaint the right way round, and an empty text as no opinion."""
from __future__ import annotations

import numpy as np

from nlp.sentiment import MODEL_PATH, default_sentiment


def test_the_model_file_is_plain_arrays_with_no_pickle():
    with np.load(MODEL_PATH, allow_pickle=False) as data:
        assert set(data.files) == {"coef", "intercept", "version"}


def test_praise_reads_positive_and_complaint_negative():
    model = default_sentiment()
    pos, neg = model.score_batch(["服务很好，环境干净，下次还会再来", "太差了，等了两个小时还没送到，再也不买了"])
    assert pos > 0.3 and neg < -0.3


def test_an_empty_text_has_no_opinion_and_a_batch_keeps_its_order():
    model = default_sentiment()
    assert model.score("") == 0.0 and model.score("   ") == 0.0
    texts = ["很满意", "", "非常失望"]
    assert model.score_batch(texts) == [model.score(t) for t in texts]
