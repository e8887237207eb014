"""Evaluation figures, checked against confusions worked out by hand."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.analysis import Analysis
from nlp.evaluate import binary_scores, evaluate, scores_from_pairs


class FixedAnalyzer:
    """Answers from a table, like an Analyzer would, one batch at a time."""

    def __init__(self, answers: dict[str, tuple[str, ...]]):
        self.answers = answers
        self.batches = 0

    def analyse_batch(self, texts):
        self.batches += 1
        out = []
        for t in texts:
            labels = self.answers.get(t, ())
            out.append(Analysis(primary=labels[0] if labels else "none", labels=labels, scores={}))
        return out


def test_per_category_scores_match_a_confusion_worked_out_by_hand():
    # gold fraud x4: 3 right, 1 called gambling; gold gambling x2: 1 right, 1 called none;
    # gold none x4: 3 right, 1 called fraud.
    pairs = ([("fraud", "fraud")] * 3 + [("fraud", "gambling")] + [("gambling", "gambling"), ("gambling", "none")]
             + [("none", "none")] * 3 + [("none", "fraud")])
    r = scores_from_pairs(pairs)
    assert r.per_category["fraud"].precision == pytest.approx(3 / 4)
    assert r.per_category["fraud"].recall == pytest.approx(3 / 4)
    assert r.per_category["gambling"].precision == pytest.approx(1 / 2)
    assert r.per_category["gambling"].recall == pytest.approx(1 / 2)
    assert r.per_category["none"].precision == pytest.approx(3 / 4)
    assert r.per_category["none"].f1 == pytest.approx(0.75)
    assert r.macro_f1 == pytest.approx(round((0.75 + 0.5 + 0.75) / 3, 4))
    assert r.accuracy == pytest.approx(0.7)
    assert r.confusion["fraud"] == {"fraud": 3, "gambling": 1}
    assert r.confusion["none"] == {"none": 3, "fraud": 1}


def test_a_category_predicted_but_never_gold_lowers_recall_but_is_not_averaged():
    r = scores_from_pairs([("gambling", "drugs"), ("gambling", "gambling")])
    assert set(r.per_category) == {"gambling"}
    assert r.per_category["gambling"].recall == 0.5
    assert r.per_category["gambling"].precision == 1.0


def test_evaluate_counts_clean_rows_given_any_label_as_false_positives():
    an = FixedAnalyzer({"菠菜": ("gambling",), "你好": (), "早安": ("abuse_hate",), "晚安": ()})
    rows = [{"text": "菠菜", "category": "gambling"}, {"text": "你好", "category": "none"},
            {"text": "早安", "category": "none"}, {"text": "晚安", "category": "none"}]
    r = evaluate(rows, an)
    assert r.clean_fp_rate == pytest.approx(1 / 3, abs=1e-4)
    assert r.per_category["gambling"].f1 == 1.0
    assert r.n == 4


def test_bad_rows_are_skipped_with_their_number_and_the_rest_is_scored():
    an = FixedAnalyzer({})
    rows = [{"text": "好", "category": "none"}, {"category": "none"}, {"text": "x", "category": "spam"}, "junk"]
    r = evaluate(rows, an)
    assert r.n == 1
    assert r.skipped == ["row 2: no text", "row 3: unknown category 'spam'", "row 4: not an object"]


def test_evaluate_sends_texts_in_batches_not_one_by_one():
    an = FixedAnalyzer({})
    evaluate([{"text": str(i), "category": "none"} for i in range(1500)], an)
    assert an.batches == 3


def test_the_report_has_a_json_form_and_a_table_form():
    r = scores_from_pairs([("fraud", "fraud"), ("none", "fraud")], gold_none_flagged=1, gold_none=1)
    data = json.loads(r.to_json())
    assert data["per_category"]["fraud"]["precision"] == 0.5
    table = r.to_table()
    assert "macro-F1" in table and "fraud" in table and "clean rows flagged: 100.00%" in table


def test_binary_macro_f1_averages_both_classes():
    s = binary_scores([True, True, False, False], [True, False, False, False])
    # positive F1 = 2/3, negative F1 = 2*2/(2*2+1) = 0.8
    assert s["f1"] == pytest.approx(0.6667, abs=1e-4)
    assert s["macro_f1"] == pytest.approx(round((2 / 3 + 0.8) / 2, 4))


def test_a_classifier_without_a_batch_method_is_refused_clearly():
    with pytest.raises(TypeError, match="analyse_batch"):
        evaluate([{"text": "好", "category": "none"}], object())


def test_dev_report_scores_each_dataset_on_the_report_half_of_dev(tmp_path):
    from nlp.evaluate import dev_report
    from nlp.train import dev_half

    rows = []
    for i in range(40):
        rows.append({"id": f"cold:{i}", "text": f"骂人{i}", "category": "abuse_hate", "dataset": "cold", "split": "dev"})
        rows.append({"id": f"cold:n{i}", "text": f"好人{i}", "category": "none", "dataset": "cold", "split": "dev"})
        rows.append({"id": f"rev:{i}", "text": f"好评{i}", "category": "none", "dataset": "chinesenlpcorpus_reviews",
                     "split": "dev"})
        rows.append({"id": f"sos:{i}", "text": f"不想活{i}", "category": "self_harm", "dataset": "sos1k_suicide",
                     "split": "dev"})
    path = tmp_path / "dev.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    answers = {f"骂人{i}": ("abuse_hate",) for i in range(40)}
    answers.update({f"不想活{i}": ("self_harm",) for i in range(0, 40, 2)})
    answers["好评0"] = ("fraud",)
    report = dev_report(path, FixedAnalyzer(answers), silver_per_file=2)
    kept = [r for r in rows if dev_half(r["id"]) == "report"]
    assert report["rows"] == len(kept)
    assert report["offensive:cold"]["macro_f1"] == 1.0
    sos = [r for r in kept if r["dataset"] == "sos1k_suicide"]
    assert report["self_harm_recall"]["rate"] == round(sum(int(r["text"][3:]) % 2 == 0 for r in sos) / len(sos), 4)
    reviews = [r for r in kept if r["dataset"] == "chinesenlpcorpus_reviews"]
    assert report["clean_fp_rate:chinesenlpcorpus_reviews"]["rate"] == round(
        sum(r["text"] == "好评0" for r in reviews) / len(reviews), 4)
    assert "re-measures" in report["silver_test"]["note"]


# --- the hand-written check set and the sealed set's classes --------------------------------

def test_dev_report_scores_the_hand_written_checks_and_the_sealed_classes_of_silver(tmp_path):
    from nlp.evaluate import SEALED_CLASSES, dev_report

    data = tmp_path / "dev.jsonl"
    data.write_text(json.dumps({"id": "cold:1", "text": "好人", "category": "none", "dataset": "cold", "split": "dev"},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    checks = tmp_path / "checks.jsonl"
    checks.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"text": "百家乐 加我", "category": "gambling"}, {"text": "今天天气好", "category": "none"},
        {"text": "刷单返利", "category": "fraud"}, {"text": "菠菜炒蛋", "category": "none"}]), encoding="utf-8")
    answers = {"百家乐 加我": ("gambling",), "刷单返利": ("illicit_ads",), "菠菜炒蛋": ("gambling",)}
    report = dev_report(data, FixedAnalyzer(answers), silver_per_file=2, checks_path=checks)
    hw = report["handwritten"]
    assert (hw["n"], hw["accuracy"], hw["clean_fp_rate"]) == (4, 0.5, 0.5)
    assert "not a substitute for real data" in hw["note"]
    assert set(report["silver_test:sealed_classes"]["per_category"]) <= set(SEALED_CLASSES)
    assert "handwritten macro-F1=" in __import__("nlp.evaluate", fromlist=["x"]).dev_report_table(report)


def test_a_broken_line_in_a_check_file_names_the_file_and_line(tmp_path):
    from nlp.evaluate import read_jsonl

    path = tmp_path / "checks.jsonl"
    path.write_text('{"text": "好", "category": "none"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"checks.jsonl:2: not JSON"):
        read_jsonl(path)


def test_the_shipped_hand_written_checks_are_varied_and_half_harmful_across_the_sealed_classes():
    from nlp import silver
    from nlp.evaluate import HANDWRITTEN_PATH, SEALED_CLASSES, read_jsonl

    rows = read_jsonl(HANDWRITTEN_PATH)
    cats = [r["category"] for r in rows]
    assert len(rows) >= 60 and len({r["text"] for r in rows}) == len(rows)
    assert set(cats) == set(SEALED_CLASSES)
    assert abs(cats.count("none") - len(rows) / 2) <= 2
    # written by hand: no check post is a silver post
    made = {p.text for p in silver.generate(300, seed=7)} | {p.text for p in silver.generate(100, seed=8, heldout=True)}
    assert not made & {r["text"] for r in rows}


class _ProbModel:
    """A bare model (no Analyzer): probabilities per label and its own thresholds."""

    labels = ["fraud", "gambling"]
    thresholds = {"fraud": 0.2, "gambling": 0.6}

    def __init__(self, rows):
        self.rows = rows

    def predict_proba(self, chunk):
        import numpy as np

        return np.array([self.rows[t] for t in chunk])

    def labels_for(self, probs):
        return [tuple(c for c, p in zip(self.labels, row) if p >= self.thresholds[c]) for row in probs]


def test_a_bare_model_takes_its_primary_from_the_probability_relative_to_each_threshold():
    from nlp.evaluate import predict_labels

    # 0.5 is far above fraud's cut of 0.2; 0.7 only just above gambling's 0.6: fraud is the better supported
    model = _ProbModel({"a": [0.5, 0.7], "b": [0.21, 0.99]})
    assert predict_labels(model, ["a", "b"]) == [("fraud", ("fraud", "gambling")), ("gambling", ("fraud", "gambling"))]


CHECKS_DIR = Path(__file__).resolve().parents[2] / "nlp" / "data" / "checks"


@pytest.mark.parametrize("name", ["handwritten_2", "handwritten_3a", "handwritten_3b", "handwritten_3c", "handwritten_3d",
                                  "handwritten_3e", "handwritten_3f",
                                  "handwritten_3g", "handwritten_3h"])
def test_each_later_check_set_is_balanced_written_by_hand_and_new(name):
    from nlp import silver
    from nlp.evaluate import LATER_CHECK_SETS, SEALED_CLASSES, read_jsonl

    path = CHECKS_DIR / f"{name}.jsonl"
    assert name in dict(LATER_CHECK_SETS)
    rows = read_jsonl(path)
    cats = [r["category"] for r in rows]
    assert len(rows) >= 120 and len({r["text"] for r in rows}) == len(rows)
    assert set(cats) == set(SEALED_CLASSES)
    assert all(cats.count(c) >= 20 for c in SEALED_CLASSES)
    earlier = {r["text"] for other in sorted(CHECKS_DIR.glob("*.jsonl")) if other != path for r in read_jsonl(other)}
    assert not earlier & {r["text"] for r in rows}
    made = {p.text for p in silver.generate(300, seed=7)} | {p.text for p in silver.generate(100, seed=8, heldout=True)}
    assert not made & {r["text"] for r in rows}
