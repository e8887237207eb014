"""The fast classifier code gives exactly what the slow, obvious code gave.

`speed_reference/` is the normaliser, lexicon matcher, detectors, features and model code as they
were before the speed work. Both run here on the same inputs: a few thousand real dev rows, silver
posts with every evasion applied, and hostile input. Any difference in normalised text, trail,
offset mapping, lexicon hits, detections, feature matrix (bit for bit), model probabilities,
explanations or the final Analysis fails the test: the shipped model was trained on these
features, so a faster path that moved a hash bucket would silently invalidate it.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from speed_reference import detectors as ref_detectors  # noqa: E402
from speed_reference import features as ref_features  # noqa: E402
from speed_reference import lexicon as ref_lexicon  # noqa: E402
from speed_reference import model as ref_model  # noqa: E402
from speed_reference import normalise as ref_normalise  # noqa: E402

from nlp import detectors, features, model  # noqa: E402
from nlp import normalise as live_normalise  # noqa: E402
from nlp.lexicon import Lexicon  # noqa: E402

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "labelled_posts.jsonl"
DEV_ROWS = 3000

HOSTILE = [
    "", " ", "\n", "a", "加", "🈶", "\u200b", "\ufeff赌\u200d博",
    "加薇❤信聊 菠.菜老平台 du博 yp jz 弓长三 女票娼 幺三八一二三四五六七八",
    "ＱＱ：１２３４５６７８ ｖｘ：ａｂｃ１２３４５ 賭博網站 葉子同城",
    "身份证110105199003071234 卡号6222 0212 3456 7898 123 电话138-1234-5678",
    "北京市朝阳区建国路88号3栋2单元1201室 京A·12345 t.me/abc_def 看 abc.top/x?y=1",
    "V：abc_12345 +V 企鹅号 扣扣 卫星号abc123 紫砂 紫砂壶 涩图 倮聊 薇 威信 加威：abc12345",
    "🎰🎲🀄💊🔫🍃❄💉 ➕我 ⭕子 🍠博主 🐧号123456",
    "赌*博 约_炮 刷 单 赌|博 冲.完.凉 很好~下次 酒店 不错",
    "dubo Dubo DUBO duBo du-bo du.博 typing yp happy jazz Skype bjl ssc yyq zf",
    "ſhuadan \u212aaihe 赌bo x赌bo 刷dan 约Pao YP.jz shua_dan sha zhu pan laohuji",
    "零幺二三四五六七八九 洞幺拐勾五 电话洞幺拐勾五五五",
    "\x00\x01\x02 binary \x7f\xff garbage \ufffd\ufffd",
    "mixed العربية русский ελληνικά 한국어 日本語のテキスト English words",
    "㊙ 🈲 🆓 🉑 🈷 🚬 💣 🧨 📞 ☎ 📱 🈺 🈵 🈸 🉐 💲 💵 💴 🐸",
    "⑴⒈①𝐀𝑎𝟏 ⼈⼉ 兀 﨎 亊吿囬 愽彩 槍彈",
    "高价收 一类银行卡 回收闲置电话卡。收了快递。银行卡丢了 子女的都是 冰箱 蛋白粉 路口交叉",
    "警惕刷单诈骗 禁毒宣传 笑死",
    "赌" * 300,
    ("加我微信abc12345 " * 50).strip(),
    "这家酒店位置很好，房间干净，早餐品种丰富，下次还会再来。" * 40,
]


def _dev_texts(n: int) -> list[str]:
    if not DATA.is_file():
        return []
    rows = []
    with DATA.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("split") == "dev" and row.get("text"):
                rows.append(row["text"])
    random.Random(4).shuffle(rows)
    return rows[:n]


def _obfuscated_texts() -> list[str]:
    from nlp import silver

    posts = silver.generate(12, seed=7)
    rng = random.Random(11)
    out = [p.text for p in posts]
    # and the same posts pushed through more evasions than training ever applies
    out += [silver.apply_evasions(p.text, rng, max_steps=6)[0] for p in posts]
    return out


@pytest.fixture(scope="module")
def texts() -> list[str]:
    dev = _dev_texts(DEV_ROWS)
    obf = _obfuscated_texts()
    assert len(obf) > 200, "the silver generator gave too few posts to mean anything"
    return dev + obf + HOSTILE


@pytest.fixture(scope="module")
def lexicons():
    return Lexicon.load(), ref_lexicon.Lexicon.load()


def test_the_comparison_uses_real_dev_rows(texts):
    if not DATA.is_file():
        pytest.skip(f"{DATA} not present: only silver and hostile input compared")
    assert len(texts) > DEV_ROWS


def _spans(n: int, rng: random.Random) -> list[tuple[int, int]]:
    spans = [(i, i + 1) for i in range(min(n, 60))] + [(0, n), (n, n), (0, 0)]
    spans += [tuple(sorted((rng.randint(0, n), rng.randint(0, n)))) for _ in range(10)]
    return spans


def test_normalised_text_trail_and_offsets_are_unchanged(texts, lexicons):
    live_lex, _ = lexicons
    rng = random.Random(3)
    for text in texts:
        new = live_normalise.normalise(text, live_lex.fold_terms)
        old = ref_normalise.normalise(text, live_lex.fold_terms)
        assert (new.text, new.trail) == (old.text, old.trail), text
        for s, e in _spans(len(new.text), rng):
            assert new.to_original(s, e) == old.to_original(s, e), (text, s, e)
        for s, e in _spans(len(text), rng):
            assert new.steps_within(s, e) == old.steps_within(s, e), (text, s, e)


def test_lexicon_hits_and_fold_words_are_unchanged(texts, lexicons):
    live_lex, ref_lex = lexicons
    assert live_lex.fold_terms == ref_lex.fold_terms
    assert live_lex.version == ref_lex.version
    for text in texts:
        norm = ref_normalise.normalise(text, ref_lex.fold_terms).text
        new, old = live_lex.scan(norm), ref_lex.scan(norm)
        assert new.hits == tuple(_as_live_hit(h) for h in old.hits), text
        assert new.exceptions == tuple(_as_live_exception(e) for e in old.exceptions), text


def _as_live_hit(h):
    from nlp.lexicon import LexiconHit

    return LexiconHit(h.category, h.term, h.start, h.end, h.weight, h.weak, h.minor)


def _as_live_exception(e):
    from nlp.lexicon import ExceptionHit

    return ExceptionHit(e.category, e.pattern, e.start, e.end, e.factor)


def test_detections_are_unchanged(texts, lexicons):
    _, ref_lex = lexicons
    for text in texts:
        for candidate in (text, ref_normalise.normalise(text, ref_lex.fold_terms).text):
            new = [(d.kind, d.start, d.end, d.text) for d in detectors.detect(candidate)]
            old = [(d.kind, d.start, d.end, d.text) for d in ref_detectors.detect(candidate)]
            assert new == old, candidate


def _prepared(texts, ref_lex, live_cls=features.Prepared):
    out = []
    for text in texts:
        norm = ref_normalise.normalise(text, ref_lex.fold_terms).text
        out.append(live_cls(text, norm, ref_lex.scan(norm), tuple(ref_detectors.detect(norm))))
    return out


@pytest.mark.parametrize("config", [features.FeatureConfig(), features.FeatureConfig(char_bits=20, word_bits=0),
                                    features.FeatureConfig(char_bits=12, char_max_n=4, word_bits=10, dense_scale=0.5)])
def test_feature_matrices_are_bit_identical(texts, lexicons, config):
    _, ref_lex = lexicons
    prepared = _prepared(texts, ref_lex)
    ref_prepared = [ref_features.Prepared(p.raw, p.normalised, p.lexicon, p.detections) for p in prepared]
    ref_cfg = ref_features.FeatureConfig(**config.to_dict())
    for lo in range(0, len(prepared), 700):  # batches of different make-up, including a short last one
        new = features.FeatureExtractor(config).transform(prepared[lo:lo + 700])
        old = ref_features.FeatureExtractor(ref_cfg).transform(ref_prepared[lo:lo + 700])
        new.sort_indices()
        old.sort_indices()
        assert new.shape == old.shape
        assert np.array_equal(new.indptr, old.indptr)
        assert np.array_equal(new.indices, old.indices)
        assert new.data.dtype == old.data.dtype and np.array_equal(new.data, old.data)


def test_feature_names_for_explanations_are_unchanged(texts, lexicons):
    _, ref_lex = lexicons
    cfg = features.FeatureConfig()
    live = features.FeatureExtractor(cfg)
    ref = ref_features.FeatureExtractor(ref_features.FeatureConfig(**cfg.to_dict()))
    rng = random.Random(5)
    for p in _prepared(texts[::7], ref_lex):
        X = live.transform([p])
        cols = set(X.indices.tolist())
        some = set(rng.sample(sorted(cols), min(8, len(cols)))) | {rng.randrange(live.n_features)}
        rp = ref_features.Prepared(p.raw, p.normalised, p.lexicon, p.detections)
        assert live.names(p, some) == ref.names(rp, some), p.raw


@pytest.fixture(scope="module")
def models():
    if not model.BUNDLED_MODEL_PATH.is_file():
        pytest.fail(f"the shipped model {model.BUNDLED_MODEL_PATH} is missing; `make train` writes it")
    live = model.HarmModel.load(model.BUNDLED_MODEL_PATH)
    state = live.to_state()
    return live, ref_model.HarmModel.from_state(state, "bundled")


def test_model_probabilities_and_explanations_are_unchanged(texts, lexicons, models):
    _, ref_lex = lexicons
    live, ref = models
    prepared = _prepared(texts, ref_lex)
    ref_prepared = [ref_features.Prepared(p.raw, p.normalised, p.lexicon, p.detections) for p in prepared]
    for lo in range(0, len(prepared), 256):
        assert live.predict(prepared[lo:lo + 256]) == ref.predict(ref_prepared[lo:lo + 256])
    flagged = [i for i, row in enumerate(ref.predict_proba(ref_prepared)) if (row >= ref.thresholds_).any()]
    assert flagged, "nothing flagged: the explanation comparison would be empty"
    for lo in range(0, len(flagged), 300):
        idx = flagged[lo:lo + 300]
        assert live.explain([prepared[i] for i in idx]) == ref.explain([ref_prepared[i] for i in idx])
    assert live.explain(prepared[:40], labels=list(live.labels)) == ref.explain(ref_prepared[:40], labels=list(ref.labels))


def test_whole_analyses_are_unchanged(texts, lexicons, models, monkeypatch):
    """The Analyzer on the live code against the Analyzer with every part swapped for its reference."""
    import nlp.analyzer as analyzer_mod
    from nlp.analyzer import Analyzer

    live_lex, ref_lex = lexicons
    live_model, ref_m = models
    new = [a.to_dict() for lo in range(0, len(texts), 512)
           for a in Analyzer(live_lex, model=live_model).analyse_batch(texts[lo:lo + 512])]
    monkeypatch.setattr(analyzer_mod, "normalise", ref_normalise.normalise)
    monkeypatch.setattr(analyzer_mod, "detect", ref_detectors.detect)
    old = [a.to_dict() for lo in range(0, len(texts), 512)
           for a in Analyzer(ref_lex, model=ref_m).analyse_batch(texts[lo:lo + 512])]
    assert len(new) == len(old)
    for text, n, o in zip(texts, new, old):
        assert n == o, text


def test_the_nothing_found_shortcut_scores_as_the_full_rule_recipe(texts, lexicons):
    """nlp.analyzer.score_rules skips the per-category walk when nothing was found; whatever the
    recipe becomes, the shortcut must give what the full recipe gives."""
    from nlp.analyzer import _score_rules, score_rules
    from nlp.lexicon import ExceptionHit, Match

    live_lex, _ = lexicons
    quiet = []
    for text in texts:
        match = live_lex.scan(live_normalise.normalise(text, live_lex.fold_terms).text)
        if not match.hits:
            quiet.append(match)
    assert len(quiet) > 100 and any(m.exceptions for m in quiet)
    quiet += [Match((), (ExceptionHit("*", "笑死", 0, 2, 0.3), ExceptionHit("fraud", "警惕…诈骗", 3, 9, 0.0))), Match((), ())]
    for match in quiet:
        assert score_rules(match, ()) == _score_rules(match, ())


@pytest.mark.parametrize("weights", ["equal", "few_positive", "random"])
def test_explanations_agree_when_contributions_tie(weights):
    """Equal weights make many features contribute exactly alike: the order of tied features is
    the unstable argsort's, which the fast path must defer to."""
    from nlp.categories import HARM_CATEGORIES

    cfg = features.FeatureConfig(char_bits=10, word_bits=8)
    n = features.FeatureExtractor(cfg).n_features
    rng = np.random.default_rng(1)
    W = {"equal": np.ones((n, len(HARM_CATEGORIES))),
         "few_positive": (rng.random((n, len(HARM_CATEGORIES))) < 0.01).astype(float),
         "random": rng.normal(size=(n, len(HARM_CATEGORIES)))}[weights].astype(np.float32)
    state = {"format": model.FORMAT, "version": "m-ties", "config": cfg.to_dict(), "labels": list(HARM_CATEGORIES),
             "dense_names": list(features.DENSE_NAMES), "weights": W.astype(np.float16),
             "intercepts": np.zeros(len(HARM_CATEGORIES), dtype=np.float32),
             "platt": np.tile([1.0, 0.0], (len(HARM_CATEGORIES), 1)), "thresholds": np.full(len(HARM_CATEGORIES), 0.5),
             "meta": {}}
    live, ref = model.HarmModel.from_state(state), ref_model.HarmModel.from_state(state)
    texts = HOSTILE + ["加微信 abc123 赌博平台 赌博平台", "一二三四五六七八九十", "aaaa bbbb aaaa"]
    prepared = [features.Prepared(t, t) for t in texts]
    ref_prepared = [ref_features.Prepared(t, t) for t in texts]
    labels = list(HARM_CATEGORIES)
    for k in (1, 5, 30):
        assert live.explain(prepared, top=k, labels=labels) == ref.explain(ref_prepared, top=k, labels=labels)
