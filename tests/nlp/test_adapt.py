"""The platform layer and `patrol adapt`: decisions in, a model that knows the platform's jargon out.

The labels here are made up on purpose: words no lexicon and no training row of Patrol knows
(嘟嘟果 for a gambling site, 蓝莓券 for a refund scam), so only the layer can have learned them.
The layer's quality on real posts is measured by the real-post scorer, run by hand (nlp/README.md), not here.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nlp.adapt import AdaptError, LabelFileError, adapt_model, read_label_rows
from nlp.analyzer import Analyzer
from nlp.lexicon import Lexicon
from nlp.model import HarmModel, load_bundled
from nlp.platform_layer import EXPLAIN_PREFIX, NgramVectoriser, char_ngrams

GAMBLING = ["嘟嘟果今晚开{}局，老铁们冲", "嘟嘟果{}号桌还有位", "上嘟嘟果，{}倍返", "嘟嘟果群{}，进来一起玩",
            "昨天嘟嘟果赢了{}把", "嘟嘟果新人送{}"]
FRAUD = ["蓝莓券退款{}元，点这里领取", "您的蓝莓券{}即将过期，请联系客服退还", "蓝莓券补偿{}，先交手续费",
         "蓝莓券理赔第{}批开始了", "领蓝莓券返现{}，加客服", "蓝莓券到账{}，需验证银行卡"]
NONE = ["今天下午{}点开会，别迟到", "这家店的面条{}块一碗，挺好吃", "周末去公园跑了{}公里", "孩子考了{}分，很开心",
        "地铁{}号线今天人好多", "楼下新开了一家书店，第{}次去"]


def _rows() -> list[dict]:
    rows = []
    for category, templates in (("gambling", GAMBLING), ("fraud", FRAUD), ("none", NONE)):
        for n in range(12):
            rows.append({"id": f"t:{category}:{n}", "text": templates[n % len(templates)].format(n + 3),
                         "category": category, "dataset": "officer_decisions", "split": "train"})
    return rows


@pytest.fixture(scope="module")
def adapted(tmp_path_factory) -> tuple[HarmModel, dict]:
    out = tmp_path_factory.mktemp("adapt") / "adapted.skops"
    report = adapt_model(_rows(), out, use_encoder=False)
    return HarmModel.load(out), report


def _analyzer(model) -> Analyzer:
    return Analyzer(Lexicon.load(None), model=model)


def test_the_adapted_model_knows_the_platforms_words_the_shipped_one_does_not(adapted):
    model, report = adapted
    unseen = ["嘟嘟果周五开99局", "您的蓝莓券退款请联系客服"]
    before = [a.primary for a in _analyzer(load_bundled()).analyse_batch(unseen)]
    after = [a.primary for a in _analyzer(model).analyse_batch(unseen)]
    assert after == ["gambling", "fraud"]
    assert before != after
    assert report["per_class"] == {"fraud": 12, "gambling": 12, "none": 12}
    assert model.version == report["model_version"] and "+p-" in model.version
    assert model.version.startswith(report["base_version"])


def test_the_layer_explains_its_choice_with_the_platforms_ngrams(adapted):
    model, _ = adapted
    a = _analyzer(model).analyse("嘟嘟果周五开99局")
    names = [n for n, _ in a.features["gambling"]]
    assert names and all(n.startswith(EXPLAIN_PREFIX) for n in names)
    assert any("嘟" in n for n in names)


def test_categories_the_officers_never_labelled_keep_the_shipped_models_verdict(adapted):
    model, _ = adapted
    text = "不想活了，今晚就从楼上跳下去，安眠药已经买好了"
    shipped = _analyzer(load_bundled()).analyse(text)
    assert "self_harm" in shipped.labels  # the precondition: the shipped model sees it
    mine = _analyzer(model).analyse(text)
    assert "self_harm" in mine.labels
    assert mine.scores["self_harm"] == shipped.scores["self_harm"]


def test_everyday_text_stays_clean(adapted):
    model, _ = adapted
    for text in ["明天下午三点开会", "这碗面条真好吃"]:
        assert _analyzer(model).analyse(text).primary == "none"


def test_the_file_round_trips_and_the_encoder_switch_is_honest(adapted, tmp_path):
    model, _ = adapted
    again = tmp_path / "again.skops"
    model.save(again)
    loaded = HarmModel.load(again)
    assert loaded.version == model.version
    assert loaded.platform is not None and loaded.platform.classes == model.platform.classes
    assert not loaded.platform.uses_encoder and not loaded.uses_encoder


def test_vectoriser_is_tfidf_with_unit_rows():
    v = NgramVectoriser.fit(["ab ab", "abc"])
    X = v.transform(["ab", "zz", "abc abc"])
    assert X.shape == (3, len(v.vocabulary))
    norms = (X.multiply(X)).sum(axis=1).A.ravel()
    assert norms[0] == pytest.approx(1.0) and norms[1] == 0.0 and norms[2] == pytest.approx(1.0)
    assert char_ngrams("a  b", 1, 2) == ["a", " ", "b", "a ", " b"]


def test_one_category_only_is_refused():
    rows = [r for r in _rows() if r["category"] == "gambling"]
    with pytest.raises(AdaptError, match="one category"):
        adapt_model(rows, Path("/nonexistent/never-written.skops"), use_encoder=False)


@pytest.mark.parametrize("content, line, reason", [
    ('{"text": "a", "category": "fraud"}\n{"text": "b", "category": "spam"}\n', 2, "unknown category 'spam'"),
    ('{"text": "a", "category": "fraud"}\nnot json\n', 2, "not JSON"),
    ('{"text": "", "category": "fraud"}\n', 1, "empty text"),
    ('{"category": "fraud"}\n', 1, "field 'text'"),
])
def test_a_broken_labels_file_names_its_line(tmp_path, content, line, reason):
    path = tmp_path / "labels.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LabelFileError) as err:
        read_label_rows(path)
    assert err.value.lineno == line and reason in str(err.value)


def test_cli_writes_the_model_and_refuses_a_broken_file_without_writing(tmp_path):
    patrol = Path(sys.executable).with_name("patrol")
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _rows()), encoding="utf-8")
    out = tmp_path / "m.skops"
    done = subprocess.run([str(patrol), "adapt", "--labels", str(labels), "--out", str(out), "--no-encoder"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["model_version"] == HarmModel.load(out).version

    broken = tmp_path / "broken.jsonl"
    broken.write_text(labels.read_text(encoding="utf-8") + '{"text": "x", "category": "unknown"}\n', encoding="utf-8")
    out2 = tmp_path / "m2.skops"
    done = subprocess.run([str(patrol), "adapt", "--labels", str(broken), "--out", str(out2)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 2
    assert f"{broken}:37: unknown category 'unknown'" in done.stderr and "nothing written" in done.stderr
    assert not out2.exists()


def test_the_memory_scores_nearness_to_each_class_and_leaves_a_post_out_of_its_own():
    from nlp.platform_layer import DecisionMemory

    texts = ["嘟嘟果今晚开局", "嘟嘟果今晚开局了", "周末去公园跑步"]
    v = NgramVectoriser.fit(texts)
    memory = DecisionMemory([0, 0, 1], v.transform(texts), None, 2)
    near = memory.similarities(v.transform(["嘟嘟果今晚开局", "周末去公园"]), None)
    assert near.shape == (2, 4)
    assert near[0, 0] == pytest.approx(1.0, abs=1e-5) and near[0, 1] < 0.2  # the same as a decided gambling post
    assert near[1, 1] > 0.5 and near[1, 0] < 0.2
    assert not near[:, 2:].any()  # no embeddings: the embedding half stays 0
    own = memory.similarities(v.transform(texts), None, exclude_self=True)
    assert own[0, 0] < 0.999 and own[0, 0] > 0.5  # its near-copy, not itself
    assert own[2, 1] == 0.0  # the only post of its class: nothing else to be near


def test_the_adapted_file_keeps_its_memory_and_scores_the_same_after_loading(adapted, tmp_path):
    model, report = adapted
    again = tmp_path / "again.skops"
    model.save(again)
    loaded = HarmModel.load(again)
    assert report["memory_scale"] in (0.0, 1.0, 3.0)
    assert (loaded.platform.memory is None) == (model.platform.memory is None) == (report["memory_scale"] == 0.0)
    texts = ["嘟嘟果周五开99局", "今天下午开会"]
    assert [a.scores for a in _analyzer(loaded).analyse_batch(texts)] == \
        [a.scores for a in _analyzer(model).analyse_batch(texts)]


def test_a_memory_that_does_not_match_its_layer_is_refused():
    from nlp.encoder_stage import ModelLoadError
    from nlp.platform_layer import DecisionMemory

    v = NgramVectoriser.fit(["ab", "cd"])
    with pytest.raises(ModelLoadError, match="class the layer does not have"):
        DecisionMemory([0, 5], v.transform(["ab", "cd"]), None, 2)
    with pytest.raises(ModelLoadError, match="do not match"):
        DecisionMemory([0], v.transform(["ab", "cd"]), None, 2)


def test_a_post_nearly_the_same_as_a_decided_one_says_so(tmp_path):
    rows = _rows()
    out = tmp_path / "m.skops"
    from nlp.adapt import fit_layer

    model = load_bundled()
    layer, meta = fit_layer(rows, model, use_encoder=False, memory_grid=(3.0,), c_grid=(10.0,))
    assert meta["memory_scale"] == 3.0 and layer.memory is not None
    model.platform = layer
    model.save(out)
    a = _analyzer(HarmModel.load(out)).analyse(GAMBLING[0].format(7))
    assert a.primary == "gambling"
    names = [n for n, _ in a.features["gambling"]]
    assert any(n.startswith(EXPLAIN_PREFIX + "near a decided gambling post") for n in names), names
