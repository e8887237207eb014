"""Measure a classifier: per-category precision/recall/F1, macro-F1, confusion, clean false positives.

`evaluate(rows, analyzer_or_model)` is what `patrol evaluate FILE` prints. `dev_report(path)` is
the progress check without the sealed set: the dev split per dataset (offensive language, fraud
scripts, self-harm recall, clean false positives), a held-out silver test set (all classes, and
the six classes of the sealed set), and the project's hand-written check set
(`nlp/data/checks/handwritten.jsonl`: posts written by hand, not from the silver templates).

Scoring is single-label on `primary`, the best-supported label (nlp.analyzer.choose_primary).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from nlp.analyzer import choose_primary, combine_scores
from nlp.categories import ALL_CODES, HARM_CATEGORIES, NONE

BATCH = 512
OFFENSIVE_DATASETS = ("cold", "swsr", "toxicn")
CLEAN_DATASETS = ("chinesenlpcorpus_reviews",)
# The classes of the sealed evaluation set of real moderated posts (held outside this repository,
# see the README on what the tests run against); the silver test is also scored on these alone,
# so that its figure is comparable in kind.
SEALED_CLASSES = ("gambling", "porn_sexual", "fraud", "abuse_hate", "illicit_ads", NONE)
HANDWRITTEN_PATH = Path(__file__).parent / "data" / "checks" / "handwritten.jsonl"
HANDWRITTEN_NOTE = ("hand-written check set (authored by the project; small; not a substitute for real data)")
# The later check sets, scored when they sit beside the first one. Each was blind only for its
# first measurement; nlp/data/checks/README.md keeps those figures.
LATER_CHECK_SETS = (
    ("handwritten_2", "second hand-written check set (authored by the project; blind only for its first "
                      "measurement, kept in nlp/data/checks/README.md)"),
    ("handwritten_3a", "third set, short posts (written by a project author who never saw the lexicons or "
                       "templates; blind only for its first measurement, kept in nlp/data/checks/README.md)"),
    ("handwritten_3b", "third set, longer posts (same kind of author as 3a; blind only for its first "
                       "measurement, kept in nlp/data/checks/README.md)"),
    ("handwritten_3c", "third set, mixed queue sample (same kind of author; kept unseen through the round of "
                       "changes it measures; blind only for its first measurement, kept in nlp/data/checks/README.md)"),
    ("handwritten_3d", "fourth set, mixed queue sample (same kind of author; kept unseen through round 4; blind "
                       "only for its first measurement, kept in nlp/data/checks/README.md)"),
    ("handwritten_3e", "fifth set, mixed queue sample (same kind of author; kept unseen through round 5; blind "
                       "only for its first measurement, kept in nlp/data/checks/README.md)"),
    ("handwritten_3f", "sixth set, mixed queue sample (same kind of author, asked to avoid stock phrasings; kept "
                       "unseen through round 6; blind only for its first measurement, kept in nlp/data/checks/README.md)"),
    ("handwritten_3g", "seventh set, mixed queue sample (same kind of author and brief as 3f; kept unseen through "
                       "round 7; blind only for its first measurement, kept in nlp/data/checks/README.md)"),
    ("handwritten_3h", "eighth set, mixed queue sample (same kind of author and brief as 3f; kept unseen through "
                       "round 8; blind only for its first measurement, kept in nlp/data/checks/README.md)"),
)


@dataclass
class CategoryScore:
    precision: float
    recall: float
    f1: float
    support: int
    predicted: int


@dataclass
class EvalReport:
    """Single-label scores of the primary category. Macro-F1 averages the categories present in
    the gold labels (so a six-class test set is scored on its six classes); a prediction of any
    other category is simply wrong."""

    n: int
    per_category: dict[str, CategoryScore]
    macro_f1: float
    accuracy: float
    confusion: dict[str, dict[str, int]]  # gold -> predicted -> count
    clean_fp_rate: float | None  # share of gold `none` rows given any harm label
    skipped: list[str] = field(default_factory=list)  # "row N: reason"

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_table(self) -> str:
        lines = [f"{'category':16s} {'prec':>6s} {'recall':>6s} {'F1':>6s} {'support':>8s} {'predicted':>9s}"]
        for c, s in self.per_category.items():
            lines.append(f"{c:16s} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.support:8d} {s.predicted:9d}")
        lines.append(f"macro-F1 {self.macro_f1:.4f}   accuracy {self.accuracy:.4f}   rows {self.n}")
        if self.clean_fp_rate is not None:
            lines.append(f"clean rows flagged: {self.clean_fp_rate:.2%}")
        cols = [c for c in ALL_CODES if any(c in row for row in self.confusion.values())]
        lines.append("")
        lines.append("confusion (rows gold, columns predicted)")
        lines.append(f"{'':16s} " + " ".join(f"{c[:8]:>8s}" for c in cols))
        for gold, row in self.confusion.items():
            lines.append(f"{gold:16s} " + " ".join(f"{row.get(c, 0):8d}" for c in cols))
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} row(s): " + "; ".join(self.skipped[:5]))
        return "\n".join(lines)


def predict_labels(classifier: Any, texts: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    """(primary, labels) per text from an Analyzer (`analyse_batch`) or a HarmModel, in batches."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for i in range(0, len(texts), BATCH):
        chunk = list(texts[i:i + BATCH])
        if hasattr(classifier, "analyse_batch"):
            out.extend((a.primary, tuple(a.labels)) for a in classifier.analyse_batch(chunk))
        elif hasattr(classifier, "predict_proba") and hasattr(classifier, "labels_for"):
            probs = classifier.predict_proba(chunk)
            thresholds = getattr(classifier, "thresholds", None) or {}
            names = list(getattr(classifier, "labels", HARM_CATEGORIES))
            for row, labels in zip(probs, classifier.labels_for(probs)):
                # the Analyzer's own rescaling, so that "highest score" means the same for both
                scores = {c: combine_scores(0.0, float(p), 1.0, thresholds.get(c, 0.5)) for c, p in zip(names, row)}
                out.append((choose_primary(labels, scores), tuple(labels)))
        else:
            raise TypeError(f"cannot classify with {type(classifier).__name__}: it needs analyse_batch() "
                            "or predict_proba() + labels_for()")
    return out


def scores_from_pairs(pairs: Sequence[tuple[str, str]], gold_none_flagged: int | None = None,
                      gold_none: int | None = None, skipped: list[str] | None = None) -> EvalReport:
    """The report for (gold, predicted) pairs: kept separate so it can be checked by hand."""
    gold_cats = [c for c in ALL_CODES if any(g == c for g, _ in pairs)]
    confusion: dict[str, dict[str, int]] = {g: {} for g in gold_cats}
    for g, p in pairs:
        confusion[g][p] = confusion[g].get(p, 0) + 1
    per: dict[str, CategoryScore] = {}
    for c in gold_cats:
        tp = confusion[c].get(c, 0)
        support = sum(confusion[c].values())
        predicted = sum(row.get(c, 0) for row in confusion.values())
        prec = tp / predicted if predicted else 0.0
        rec = tp / support if support else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[c] = CategoryScore(round(prec, 4), round(rec, 4), round(f1, 4), support, predicted)
    macro = sum(s.f1 for s in per.values()) / len(per) if per else 0.0
    acc = sum(1 for g, p in pairs if g == p) / len(pairs) if pairs else 0.0
    fp = None
    if gold_none:
        fp = round((gold_none_flagged or 0) / gold_none, 4)
    return EvalReport(len(pairs), per, round(macro, 4), round(acc, 4), confusion, fp, list(skipped or []))


def evaluate(rows: Iterable[dict], analyzer_or_model: Any) -> EvalReport:
    """Score `analyzer_or_model` on rows with `text` and `category`. A row without them, or with
    an unknown category, is skipped and named in `skipped`; it never stops the run."""
    texts: list[str] = []
    gold: list[str] = []
    skipped: list[str] = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            skipped.append(f"row {n}: not an object")
            continue
        text, cat = row.get("text"), row.get("category")
        if not isinstance(text, str):
            skipped.append(f"row {n}: no text")
            continue
        if cat not in ALL_CODES:
            skipped.append(f"row {n}: unknown category {cat!r}")
            continue
        texts.append(text)
        gold.append(cat)
    predictions = predict_labels(analyzer_or_model, texts)
    pairs = [(g, p) for g, (p, _) in zip(gold, predictions)]
    gold_none = sum(1 for g in gold if g == NONE)
    flagged = sum(1 for g, (_, labels) in zip(gold, predictions) if g == NONE and labels)
    return scores_from_pairs(pairs, flagged, gold_none, skipped)


def read_jsonl(path: str | Path) -> list[dict]:
    """Rows of a JSONL file; a broken line names the file and line (ValueError), since a check
    set that silently loses rows measures something else."""
    path = Path(path)
    rows = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not JSON ({exc.msg})") from exc
    return rows


def _summary(rep: EvalReport, note: str) -> dict:
    return {"note": note, "n": rep.n, "macro_f1": rep.macro_f1, "accuracy": rep.accuracy,
            "per_category": {c: asdict(s) for c, s in rep.per_category.items()},
            "clean_fp_rate": rep.clean_fp_rate}


def binary_scores(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, float]:
    tp = sum(1 for g, p in zip(gold, pred) if g and p)
    fp = sum(1 for g, p in zip(gold, pred) if not g and p)
    fn = sum(1 for g, p in zip(gold, pred) if g and not p)
    tn = len(gold) - tp - fp - fn

    def f1(tp, fp, fn):
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    pos_f1, neg_f1 = f1(tp, fp, fn), f1(tn, fn, fp)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(pos_f1, 4),
            "macro_f1": round((pos_f1 + neg_f1) / 2, 4), "n": len(gold), "positives": tp + fn}


def dev_report(data_path: str | Path, analyzer_or_model: Any = None, half: str = "report",
               silver_seed: int = 1013, silver_per_file: int = 400,
               checks_path: str | Path | None = HANDWRITTEN_PATH) -> dict:
    """Dev-split figures per dataset, a held-out silver test and the hand-written check set
    (`checks_path`; None leaves it out).

    half: "report" (default) measures only the dev rows the trainer did not use to calibrate or
    pick thresholds; "all" measures the whole dev split.
    """
    from nlp import silver
    from nlp.training_data import dev_half, load_rows

    if analyzer_or_model is None:
        from nlp.model import load_bundled

        analyzer_or_model = load_bundled()
        if analyzer_or_model is None:
            raise FileNotFoundError("no model given and none bundled in nlp/data/model/")
    rows = [r for r in load_rows([data_path]) if r["split"] == "dev" and (half == "all" or dev_half(r["id"]) == half)]
    preds = predict_labels(analyzer_or_model, [r["text"] for r in rows])
    by_ds: dict[str, list[tuple[dict, tuple[str, tuple[str, ...]]]]] = {}
    for r, p in zip(rows, preds):
        by_ds.setdefault(r.get("dataset", "?"), []).append((r, p))

    report: dict[str, Any] = {"half": half, "rows": len(rows)}
    off_gold, off_pred = [], []
    for ds in OFFENSIVE_DATASETS:
        items = by_ds.get(ds, [])
        g = [r["category"] == "abuse_hate" for r, _ in items]
        p = ["abuse_hate" in labels for _, (_, labels) in items]
        report[f"offensive:{ds}"] = binary_scores(g, p)
        off_gold += g
        off_pred += p
    report["offensive:all"] = binary_scores(off_gold, off_pred)
    items = by_ds.get("telecom_fraud_texts", [])
    report["fraud_scripts"] = binary_scores([r["category"] == "fraud" for r, _ in items],
                                            ["fraud" in labels for _, (_, labels) in items])
    report["fraud_scripts:sms_flagged_any"] = _rate([bool(labels) for r, (_, labels) in items if r["category"] == NONE])
    items = by_ds.get("sos1k_suicide", [])
    report["self_harm_recall"] = _rate(["self_harm" in labels for _, (_, labels) in items])
    for ds in CLEAN_DATASETS:
        items = by_ds.get(ds, [])
        report[f"clean_fp_rate:{ds}"] = _rate([bool(labels) for _, (_, labels) in items])
    silver_rows = silver.silver_rows(silver_per_file, seed=silver_seed, heldout=True)
    sil = evaluate(silver_rows, analyzer_or_model)
    report["silver_test"] = _summary(sil, "held-out templates, another seed: this only re-measures "
                                          "the project's own rules and templates")
    sealed = evaluate([r for r in silver_rows if r["category"] in SEALED_CLASSES], analyzer_or_model)
    report["silver_test:sealed_classes"] = _summary(sealed, "the same rows, the sealed set's six classes only")
    if checks_path is not None:
        report["handwritten"] = _summary(evaluate(read_jsonl(checks_path), analyzer_or_model), HANDWRITTEN_NOTE)
        for name, note in LATER_CHECK_SETS:
            later = Path(checks_path).with_name(f"{name}.jsonl")
            if later.is_file():
                report[name] = _summary(evaluate(read_jsonl(later), analyzer_or_model), note)
    return report


def _rate(flags: Sequence[bool]) -> dict[str, float]:
    return {"rate": round(sum(flags) / len(flags), 4) if flags else 0.0, "n": len(flags)}


_SECTIONS = ("silver_test", "silver_test:sealed_classes", "handwritten") + tuple(n for n, _ in LATER_CHECK_SETS)


def dev_report_table(report: dict) -> str:
    lines = [f"dev report ({report['half']} half, {report['rows']} rows)"]
    for k, v in report.items():
        if k in ("half", "rows") or k in _SECTIONS:
            continue
        lines.append(f"  {k:34s} " + "  ".join(f"{a}={b}" for a, b in v.items()))
    for name in _SECTIONS:
        s = report.get(name)
        if s is None:
            continue
        acc = f" accuracy={s['accuracy']}" if "accuracy" in s else ""
        lines.append(f"  {name} macro-F1={s['macro_f1']}{acc} clean_fp={s['clean_fp_rate']}  ({s['note']})")
        for c, m in s["per_category"].items():
            lines.append(f"    {c:16s} P={m['precision']:.3f} R={m['recall']:.3f} F1={m['f1']:.3f} n={m['support']}")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m nlp.evaluate DATA [MODEL]
    import sys

    from nlp.model import HarmModel

    from nlp.analyzer import Analyzer

    # the Analyzer (lexicons + detectors + model) is what Patrol runs; `--model-only` measures
    # the model file alone
    args = [a for a in sys.argv[1:] if a != "--model-only"]
    model = HarmModel.load(args[1]) if len(args) > 1 else None
    if "--model-only" in sys.argv:
        clf = model
    else:
        clf = Analyzer.default(model_path=args[1] if len(args) > 1 else None)
    print(dev_report_table(dev_report(args[0], clf)))
