"""The segmenter is picklable, as scikit-learn pipelines and worker processes need."""
import pickle

from nlp.segment import Segmenter


def test_it_cuts_chinese_into_words_and_drops_spaces():
    words = Segmenter()("刷单返利 加我")
    assert "刷单" in words and "返利" in words
    assert " " not in words


def test_it_survives_pickling_after_use():
    seg = Segmenter()
    first = seg("我想加微信聊聊")
    copy = pickle.loads(pickle.dumps(seg))
    assert copy("我想加微信聊聊") == first


def test_empty_text_gives_no_words():
    assert Segmenter()("") == []
