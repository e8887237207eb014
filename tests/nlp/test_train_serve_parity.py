"""Training and serving prepare text the same way: the features `patrol train` computes for a text
are the features the Analyzer hands the model for it."""
from __future__ import annotations

import numpy as np
import pytest

from nlp.analyzer import Analyzer
from nlp.features import FeatureConfig, FeatureExtractor, RuleSide, as_prepared
from nlp.lexicon import Lexicon

# texts whose normalisation depends on the lexicon's fold words (a separator between the
# characters of a known term), on homophones, pinyin, emoji and contacts, and plain text
TEXTS = [
    "菠.菜老平台 加薇❤信 abc123",
    "刷 单 返 利 日结 私我",
    "约 炮 同城 上门服务 🐧123456789",
    "今天天气不错，去公园散步了。",
    "赌 * 球 首充送彩金 ag88 . vip",
    "du博 yp 幺三八一二三四五六七八",
    "这个酒店 不错，早餐很丰富",
    "收 一类卡 盾 公户，跑 分 车队",
]


@pytest.fixture(scope="module")
def lexicon():
    return Lexicon.load()


def test_training_normalises_with_the_fold_words_the_analyzer_uses(lexicon):
    analyzer = Analyzer(lexicon)
    served = [analyzer._prepare(t, lexicon).norm.text for t in TEXTS]
    trained = [p.normalised for p in RuleSide(lexicon=lexicon).prepare(TEXTS)]
    assert trained == served
    # the fold words matter for at least one of these texts, or this test would prove nothing
    assert any("菠菜" in s or "刷单" in s for s in trained)


def test_training_features_equal_serving_features(lexicon):
    analyzer = Analyzer(lexicon)
    extractor = FeatureExtractor(FeatureConfig(char_bits=14, word_bits=12))
    rules = RuleSide(lexicon=lexicon)
    # what the Analyzer hands the model, turned into features the way HarmModel.predict does
    rules_input = [analyzer._prepare(t, lexicon).input for t in TEXTS]
    served = extractor.transform(as_prepared(rules_input, rules))
    trained = extractor.transform(rules.prepare(TEXTS))
    assert served.shape == trained.shape == (len(TEXTS), served.shape[1])
    assert np.array_equal(served.toarray() if hasattr(served, "toarray") else served,
                          trained.toarray() if hasattr(trained, "toarray") else trained)
