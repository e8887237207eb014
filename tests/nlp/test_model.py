"""The harm model: features, batch scoring, explanations, and safe save/load with skops."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest
import skops.io as sio

from nlp.categories import HARM_CATEGORIES
from nlp.features import (DENSE_NAMES, FeatureConfig, FeatureExtractor, Prepared, char_ngram_matrix, ngram_index,
                          word_index, word_matrix)
from nlp.model import HarmModel, ModelLoadError, types_in

SMALL = FeatureConfig(char_bits=12, word_bits=10)


class NoRules:
    """A rule side that does nothing, so these tests exercise the model alone."""

    available = {"normaliser": False, "lexicon": False, "detectors": False}

    def prepare(self, texts):
        return [Prepared(t, t) for t in texts]


def tiny_model(weights=None, thresholds=None, version="m-test-0") -> HarmModel:
    n = FeatureExtractor(SMALL).n_features
    w = np.zeros((n, len(HARM_CATEGORIES)), dtype=np.float32) if weights is None else weights
    return HarmModel(SMALL, HARM_CATEGORIES, w, np.zeros(len(HARM_CATEGORIES)), np.tile([1.0, 0.0], (len(HARM_CATEGORIES), 1)),
                     np.full(len(HARM_CATEGORIES), 0.5) if thresholds is None else thresholds, version, {"k": "v"},
                     rules=NoRules())


def test_char_ngrams_of_a_batch_match_the_ngrams_of_each_text_alone():
    texts = ["加微信ab12", "", "菠菜", "x" * 7]
    batch = char_ngram_matrix(texts, 14, 3)
    for i, t in enumerate(texts):
        alone = char_ngram_matrix([t], 14, 3)
        assert np.allclose(batch[i].toarray(), alone.toarray())
        expected = {ngram_index(t[j:j + n], 14) for n in (1, 2, 3) for j in range(len(t) - n + 1)}
        assert set(batch[i].indices) == expected


def test_char_ngrams_never_cross_from_one_text_into_the_next():
    joined = char_ngram_matrix(["ab"], 14, 3)
    split = char_ngram_matrix(["a", "b"], 14, 3)
    assert ngram_index("ab", 14) in joined[0].indices
    assert ngram_index("ab", 14) not in set(split[0].indices) | set(split[1].indices)


def test_word_index_names_the_column_the_hasher_fills():
    m = word_matrix(["博彩平台"], 1 << 10)
    from nlp.features import segment

    assert set(m[0].indices) == {word_index(w, 1 << 10) for w in segment("博彩平台")}


def test_predict_returns_a_probability_for_every_category_of_every_item():
    out = tiny_model().predict(["你好", "", "加我微信"])
    assert len(out) == 3
    assert all(set(d) == set(HARM_CATEGORIES) for d in out)
    assert all(0.0 <= p <= 1.0 for d in out for p in d.values())


def test_predict_accepts_the_analyzers_prepared_inputs():
    class Input:  # the shape of nlp.analyzer.ModelInput
        text = "菠菜"
        normalised = "博彩"
        lexicon = None
        detections = ()

    m = tiny_model()
    j = HARM_CATEGORIES.index("gambling")
    m.weights[m.extractor.config.n_char:, j] = 0
    m.weights[ngram_index("博彩", SMALL.char_bits), j] = 20.0
    assert m.predict([Input()])[0]["gambling"] > 0.9  # the model read the normalised text
    assert m.predict(["菠菜"])[0]["gambling"] == pytest.approx(0.5)


def test_explain_names_the_features_that_pushed_a_label_up():
    m = tiny_model()
    j = HARM_CATEGORIES.index("gambling")
    m.weights[ngram_index("博彩", SMALL.char_bits), j] = 3.0
    m.weights[ngram_index("好", SMALL.char_bits), j] = -3.0
    top = m.explain(["博彩好"], top=3, labels=["gambling"])[0]["gambling"]
    assert top[0][0] == "char:博彩"
    assert top[0][1] > 0
    assert all(name != "char:好" for name, _ in top)


def test_explain_by_default_covers_only_the_labels_an_item_reached():
    t = np.full(len(HARM_CATEGORIES), 0.9)
    m = tiny_model(thresholds=t)
    j = HARM_CATEGORIES.index("gambling")
    m.weights[ngram_index("博彩", SMALL.char_bits), j] = 30.0
    m.weights[ngram_index("博彩", SMALL.char_bits), HARM_CATEGORIES.index("fraud")] = 1.0
    m.predict(["博彩", "你好"])  # explain reuses these features
    out = m.explain(["博彩", "你好"])
    assert list(out[0]) == ["gambling"]
    assert out[0]["gambling"][0][0] == "char:博彩"
    assert out[1] == {}


def test_labels_follow_the_per_category_thresholds():
    t = np.full(len(HARM_CATEGORIES), 0.9)
    t[HARM_CATEGORIES.index("fraud")] = 0.2
    probs = np.full((1, len(HARM_CATEGORIES)), 0.5)
    assert tiny_model(thresholds=t).labels_for(probs) == [("fraud",)]


def test_garbage_empty_and_huge_texts_are_scored_in_one_batch():
    garbage = bytes(range(256)).decode("latin-1") + "\udcff\ud800" + "\x00"
    batch = ["", garbage, "正常的一句话", "长" * 1_000_000, "🐧" * 50, "ｆｕｌｌ　ｗｉｄｔｈ"]
    out = tiny_model().predict(batch)
    assert len(out) == len(batch)
    assert tiny_model().explain(batch[:3]) and len(tiny_model().explain(batch)) == len(batch)


def test_a_saved_model_loads_back_with_the_same_scores_and_version(tmp_path):
    rng = np.random.default_rng(0)
    m = tiny_model(weights=rng.normal(size=(FeatureExtractor(SMALL).n_features, len(HARM_CATEGORIES))).astype(np.float32))
    path = m.save(tmp_path / "m.skops")
    loaded = HarmModel.load(path)
    loaded.rules = NoRules()
    texts = ["加微信领彩金", "今天天气不错"]
    assert loaded.version == "m-test-0"
    assert loaded.labels == m.labels
    assert loaded.meta == {"k": "v"}
    assert np.allclose(loaded.predict_proba(texts), m.predict_proba(texts), atol=2e-3)  # float16 weights
    assert types_in(path) <= {"builtins.dict", "builtins.list", "builtins.str", "builtins.int", "builtins.float",
                              "builtins.bool", "builtins.NoneType", "builtins.tuple", "numpy.ndarray"}


def test_loading_refuses_a_file_that_asks_for_an_untrusted_type(tmp_path):
    from sklearn.linear_model import SGDClassifier

    path = tmp_path / "evil.skops"
    state = tiny_model().to_state()
    state["meta"] = {"payload": SGDClassifier()}  # skops itself would trust this one
    sio.dump(state, path)
    with pytest.raises(ModelLoadError, match="untrusted types.*SGDClassifier"):
        HarmModel.load(path)


def test_loading_a_pickle_or_truncated_file_fails_with_its_name(tmp_path):
    import pickle

    p = tmp_path / "model.skops"
    p.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ModelLoadError, match="model.skops.*not a readable skops"):
        HarmModel.load(p)
    with pytest.raises(ModelLoadError, match="not found"):
        HarmModel.load(tmp_path / "missing.skops")


def test_a_model_with_other_dense_features_is_refused(tmp_path):
    state = tiny_model().to_state()
    state["dense_names"] = list(DENSE_NAMES[:-1])
    path = tmp_path / "old.skops"
    sio.dump(state, path)
    with pytest.raises(ModelLoadError, match="retrain"):
        HarmModel.load(path)


def test_the_bundled_model_is_small_and_loads_safely():
    from nlp.model import BUNDLED_MODEL_PATH, load_bundled

    if not BUNDLED_MODEL_PATH.exists():
        # the model ships with the code: without it the Analyzer runs on lexicons and rules alone
        pytest.fail(f"the shipped model {BUNDLED_MODEL_PATH} is missing; `make train` writes it")
    assert BUNDLED_MODEL_PATH.stat().st_size <= 20_000_000
    with zipfile.ZipFile(BUNDLED_MODEL_PATH) as z:
        assert "schema.json" in z.namelist()
    m = load_bundled()
    assert m.version.startswith("m-")
    assert set(m.thresholds) == set(HARM_CATEGORIES)


def test_the_bundled_model_inside_the_analyzer_catches_obvious_posts_and_leaves_chat_alone():
    from nlp.analyzer import Analyzer
    from nlp.model import BUNDLED_MODEL_PATH

    if not BUNDLED_MODEL_PATH.exists():
        pytest.fail(f"the shipped model {BUNDLED_MODEL_PATH} is missing; `make train` writes it")
    an = Analyzer.default()
    out = an.analyse_batch(["菠*菜平台首充送100%彩金，加薇 abc8866", "今天天气真好，下班一起吃饭吧",
                            "你这个傻逼赶紧滚", "", "\x00\udcff" * 10])
    assert out[0].primary == "gambling"
    assert out[0].features.get("gambling")  # the model explains what it flagged
    assert out[1].labels == ()
    assert "abuse_hate" in out[2].labels
    assert out[3].labels == () and out[4].primary == "none"
    assert an.model_version.startswith("m-")


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def test_the_plain_reader_returns_what_skops_returns(tmp_path):
    from nlp.model import read_plain_skops

    m = tiny_model()
    m.meta = {"nested": {"a": [1, 2.5, None, True], "t": (1, "x")}, "empty": {}, "text": "菠菜"}
    path = m.save(tmp_path / "m.skops")
    assert _same(read_plain_skops(path), sio.load(path, trusted=sorted(types_in(path))))


def test_loading_the_bundled_model_does_not_import_scikit_learn():
    import subprocess
    import sys

    code = ("import sys; from nlp.model import load_bundled; m = load_bundled(); "
            "print(m is not None, 'sklearn' in sys.modules, 'skops' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[1:] == ["False", "False"]


@pytest.mark.parametrize("n_rows, n_cols", [(1, 2), (3, 1 << 10), (256, 1 << 18), (70_000, 1 << 20)])
def test_the_count_matrix_is_the_one_scipy_builds_entry_for_entry(n_rows, n_cols):
    import scipy.sparse as sp

    from nlp.features import _count_matrix

    rng = np.random.default_rng(n_rows)
    n = 5 * n_rows + 7
    rows = rng.integers(0, n_rows, n)
    cols = rng.integers(0, min(n_cols, 40), n) * (n_cols // 40 or 1)  # plenty of duplicates
    ours = _count_matrix(rows, cols, n_rows, n_cols)
    ref = sp.csr_matrix((np.ones(n, dtype=np.float32), (rows, cols)), shape=(n_rows, n_cols))
    ref.sum_duplicates()
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    assert np.array_equal(ours.indptr, ref.indptr) and np.array_equal(ours.indices, ref.indices)
    assert np.array_equal(ours.data, ref.data)


def test_the_space_characters_the_word_namer_knows_are_all_of_unicodes():
    from nlp.features import _SPACE_CODES

    assert {c for c in range(0x110000) if chr(c).isspace()} == set(_SPACE_CODES.tolist())


def test_explanations_name_words_of_texts_with_tabs_and_ideographic_spaces():
    from nlp.features import FeatureExtractor as FE

    ext = FE(SMALL)
    texts = ["加微信\tabc 赌博\u3000平台", "普通的一句话", "\t\u3000 "]
    X, batch = ext.transform_batch([Prepared(t, t) for t in texts])
    for row, t in enumerate(texts):
        cols = set(X[row].indices.tolist())
        assert ext.names_batch([(batch, row, cols)])[0] == ext.names(Prepared(t, t), cols)
