"""Training: reading the data given at run time, fitting, and choosing thresholds on dev."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nlp.categories import HARM_CATEGORIES
from nlp.model import HarmModel
from nlp.train import (TrainingDataError, TrainParams, best_f1_threshold, cap_clean_fp, dev_half, labels_of, load_rows,
                       train)

TINY = TrainParams(char_bits=14, word_bits=10, epochs=8, silver_per_file=60, silver_dev_per_file=30,
                   silver_test_per_file=10, encoder_other_rows=0)

INSULTS = ["你这个傻逼", "滚你妈的蠢货", "脑残东西闭嘴", "傻逼玩意儿", "你妈死了蠢猪", "废物垃圾人渣", "狗东西滚远点",
           "智障才信你", "蠢猪一样的人", "贱人去死吧"]
CLEAN = ["今天天气很好", "这家店的菜很好吃", "快递很快包装完好", "周末一起去爬山", "谢谢你的帮助", "电影很感人",
         "衣服质量不错", "明天早上开会", "孩子考了满分", "这本书值得一读"]


def write_rows(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def tiny_dataset(tmp_path):
    rows = []
    for i in range(60):
        for text, cat, ds in ((INSULTS[i % 10], "abuse_hate", "cold"), (CLEAN[i % 10], "none", "chinesenlpcorpus_reviews")):
            rows.append({"id": f"{ds}:{cat}:{i}", "text": f"{text}{'！' * (i % 3)}", "category": cat, "dataset": ds,
                         "split": "dev" if i % 4 == 0 else "train"})
    return write_rows(tmp_path / "posts.jsonl", rows)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train")
    report = train([tiny_dataset(tmp)], tmp / "model" / "m.skops", seed=3, params=TINY)
    return report, HarmModel.load(report.model_path)


def test_training_on_a_tiny_dataset_separates_obvious_cases(trained):
    _, model = trained
    probs = model.predict_proba(["你这个傻逼滚", "今天天气很好", "菠菜首充送彩金，加V", "谢谢你的帮助"])
    labels = model.labels_for(probs)
    assert "abuse_hate" in labels[0]
    assert labels[1] == () and labels[3] == ()
    assert "gambling" in labels[2]


def test_training_writes_a_model_card_naming_the_data_and_the_silver_only_categories(trained):
    report, _ = trained
    card = open(report.card_path, encoding="utf-8").read()
    assert report.version in card
    assert "cold" in card and "Apache-2.0" in card
    assert "unevaluated" in card
    assert "gambling" in card.split("Categories without human-labelled data")[1].split("##")[1]


def test_thresholds_are_chosen_on_dev_and_stored_in_the_model(trained):
    report, model = trained
    assert set(model.thresholds) == set(HARM_CATEGORIES)
    assert model.thresholds["abuse_hate"] == pytest.approx(report.dev["abuse_hate"].threshold, abs=1e-4)
    assert any(t != 0.5 for t in model.thresholds.values())


def test_the_same_seed_and_data_give_the_same_model_file(tmp_path, trained):
    report, _ = trained
    again = train([tiny_dataset(tmp_path)], tmp_path / "m.skops", seed=3, params=TINY)
    assert again.version == report.version
    assert again.dev["abuse_hate"] == report.dev["abuse_hate"]
    # byte for byte (no ids, times or dates in the file), so a retrain that changes nothing
    # adds nothing to git
    assert open(again.model_path, "rb").read() == open(report.model_path, "rb").read()


def test_another_seed_gives_another_version(tmp_path, trained):
    report, _ = trained
    other = train([tiny_dataset(tmp_path)], tmp_path / "m.skops", seed=4, params=TINY)
    assert other.version != report.version


def test_the_encoder_stage_is_trained_saved_and_can_be_switched_off(tmp_path):
    from dataclasses import replace

    params = replace(TINY, encoder_other_rows=120, encoder_dev_other_rows=80)
    report = train([tiny_dataset(tmp_path)], tmp_path / "m.skops", seed=3, params=params)
    assert report.encoder
    model = HarmModel.load(report.model_path)
    assert model.uses_encoder and model.version == report.version
    probs = model.predict_proba(["你这个傻逼滚", "今天天气很好"])
    labels = model.labels_for(probs)
    assert "abuse_hate" in labels[0] and labels[1] == ()
    # switched off: the n-gram side with its own calibration and thresholds, and it says so
    fast = HarmModel.load(report.model_path, use_encoder=False)
    assert not fast.uses_encoder and fast.version == report.version + "+fast-only"
    assert dict(fast.thresholds) != dict(model.thresholds)
    assert "abuse_hate" in fast.labels_for(fast.predict_proba(["你这个傻逼滚"]))[0]
    assert "Encoder stage" in open(report.card_path, encoding="utf-8").read()


def test_training_joins_the_real_rows_beside_the_data_file_with_their_weight(tmp_path):
    from nlp import real_data

    real = tmp_path / "real"
    real.mkdir()
    (real / real_data.CORPORA["tg_spam"]).write_text("".join(
        json.dumps({"id": f"tg_spam:t.csv:{i}", "text": f"看片加Q{i}好片", "label": "1"}, ensure_ascii=False) + "\n"
        for i in range(40)), encoding="utf-8")
    (real / real_data.CORPORA["fbs_sms"]).write_text("".join(
        json.dumps({"id": f"fbs_sms:g:{i}", "text": f"到皇冠URL立得首次DIGIT派{i}", "label": "IL:Gambling"},
                   ensure_ascii=False) + "\n" for i in range(40)), encoding="utf-8")
    data = tiny_dataset(tmp_path)
    assert real_data.default_real_dir([data]) == real
    report = train([data], tmp_path / "m.skops", seed=3, params=TINY)
    # no overlay labels these tg rows (the shipped overlays name other ids); the FBS source rule does
    assert report.rows["real_fbs_sms"] and "real_tg_spam" not in report.rows
    assert "FBS SMS" in open(report.card_path, encoding="utf-8").read()


def test_best_threshold_separates_the_scores_it_can():
    p = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.2])
    y = np.array([1, 1, 1, 0, 0, 0], dtype=bool)
    assert 0.4 < best_f1_threshold(p, y) < 0.7


def test_best_threshold_of_a_label_without_positives_is_neutral():
    assert best_f1_threshold(np.array([0.1, 0.9]), np.array([False, False])) == 0.5


def test_clean_false_positives_are_capped_by_raising_the_worst_threshold():
    P = np.array([[0.6, 0.1], [0.7, 0.1], [0.2, 0.1], [0.9, 0.9]])
    Y = np.array([[0, 0], [0, 0], [0, 0], [1, 1]], dtype=bool)
    clean = ~Y.any(axis=1)
    t = cap_clean_fp(P, Y, clean, np.array([0.5, 0.5]), target=0.0)
    assert not (P[clean] >= t).any()
    assert t[1] == 0.5  # the label that flagged no clean row keeps its threshold
    assert (P[~clean] >= t).all()


def test_a_broken_training_line_names_the_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"text": "好", "category": "none"}\n{"text": 1, "category": "none"}\n', encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"bad.jsonl:2: .*text"):
        load_rows([p])
    p.write_text('{"text": "好", "category": "spam"}\n', encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"bad.jsonl:1: unknown category 'spam'"):
        load_rows([p])
    p.write_text('{"text": "好"\n', encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"bad.jsonl:1: not JSON"):
        load_rows([p])
    with pytest.raises(TrainingDataError, match="not found"):
        load_rows([tmp_path / "nope.jsonl"])


def test_a_row_carries_its_category_unless_it_lists_several_labels():
    assert labels_of({"category": "fraud"}) == ("fraud",)
    assert labels_of({"category": "none"}) == ()
    assert labels_of({"category": "gambling", "labels": ["gambling", "pii_leak"]}) == ("gambling", "pii_leak")


def test_dev_rows_split_in_two_stable_halves():
    halves = [dev_half(f"row:{i}") for i in range(1000)]
    assert halves == [dev_half(f"row:{i}") for i in range(1000)]
    assert 400 < halves.count("tune") < 600


def test_the_character_n_gram_length_is_a_training_parameter_the_model_keeps():
    params = TrainParams(char_max_n=4)
    assert params.feature_config().char_max_n == 4
    assert TrainParams().feature_config().char_max_n == 3
