"""`patrol adapt` without --labels (issue 15): export the store's labels, train a candidate on
them, judge it against the model in use, and promote it only when it is not worse.

The judging, on two sets, both scored with the full Analyzer (lexicons + detectors + model, as
deployed) for the candidate and for the current model alike:
- the held-back slice of the platform's own labels (patrol.labels.held_back: ~20%, by a hash of
  the post id, never trained on by the candidate);
- the dev rows (default: the hand-written check sets that ship in nlp/data/checks/, which the
  shipped figures in nlp/data/model/MODEL_CARD.md are reported on; `--dev FILE` for others).
The dev rows are cut to `DEV_PER_CATEGORY` per category (a fixed choice by a hash of each row,
so every run judges on the same rows): an adapted model reads each post with the sentence
encoder too, ~5 posts/s on this loaded machine, and all 1929 check rows took ~7 minutes; 20 per
category (~220 rows) keeps `patrol adapt` within its five minutes. `--dev-per-category 0` takes all.
"Worse" on a set is macro-F1 lower than the current model's by more than `tolerance` (0.01) AND
more rows wrong than chance allows (McNemar's one-sided test, `judge`): the sets are small, and a
refusal for one post's noise would freeze the platform's model.

Every verdict is an audit event with its figures: model.promoted or model.refused; the candidate is
registered either way, with its card, so `patrol model promote VERSION` can still take it by hand.
Training and the registry are injected (`train`, `analyzer_for`), so this module imports neither a
trainer nor a framework: app/cli_adapt.py passes nlp.adapt.adapt_model.
"""
from __future__ import annotations

import hashlib
import math
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from nlp.categories import ALL_CODES
from nlp.evaluate import predict_labels, scores_from_pairs
from patrol import labels as label_rules
from patrol.model_registry import BUNDLED, ModelRegistry, RegistryChanged
from patrol.store.database import SYSTEM_ACTOR

DEFAULT_TOLERANCE = 0.01
DEV_PER_CATEGORY = 20
MCNEMAR_Z = 1.645  # one-sided 5%
CHECKS_DIR = Path(__file__).resolve().parent.parent / "nlp" / "data" / "checks"


class AdaptRefused(Exception):
    """Nothing to train on, or nothing to judge with; the message says which and why."""


@dataclass
class Verdict:
    candidate: str
    baseline: str
    promoted: bool
    reason: str
    figures: dict
    seconds: float
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"candidate": self.candidate, "baseline": self.baseline, "promoted": self.promoted,
                "reason": self.reason, "figures": self.figures, "seconds": round(self.seconds, 1)}


def shipped_dev_files() -> list[Path]:
    return sorted(CHECKS_DIR.glob("handwritten*.jsonl"))


def dev_sample(rows: Sequence[dict], per_category: int = DEV_PER_CATEGORY) -> list[dict]:
    """At most `per_category` rows of each category, chosen by a hash of the row (not at random:
    the same rows every run, so two candidates are judged alike). 0 keeps every row."""
    if per_category <= 0:
        return list(rows)
    keyed = sorted(rows, key=lambda r: hashlib.sha256(
        f"{r.get('id', '')}\x1f{r.get('text', '')}".encode("utf-8", "replace")).hexdigest())
    taken: dict[str, int] = {}
    out = []
    for r in keyed:
        c = str(r.get("category"))
        if taken.get(c, 0) < per_category:
            taken[c] = taken.get(c, 0) + 1
            out.append(r)
    return out


def _score(rows: Sequence[dict], analyzer) -> tuple[dict, list[bool]]:
    """Macro-F1 of the primary category, and which rows it got right (for the paired test)."""
    usable = [r for r in rows if isinstance(r.get("text"), str) and r.get("category") in ALL_CODES]
    predicted = [p for p, _ in predict_labels(analyzer, [r["text"] for r in usable])]
    rep = scores_from_pairs([(r["category"], p) for r, p in zip(usable, predicted)])
    return ({"macro_f1": round(rep.macro_f1, 4), "accuracy": round(rep.accuracy, 4), "n": rep.n},
            [r["category"] == p for r, p in zip(usable, predicted)])


def judge(named_rows: dict[str, Sequence[dict]], candidate, baseline, tolerance: float) -> tuple[bool, str, dict]:
    """Score both analyzers on each named set; promote only when the candidate is not worse on any.

    Worse means both: macro-F1 lower by more than `tolerance`, and more rows wrong than the current
    model by more than chance allows (McNemar's one-sided test at 5% on the rows the two disagree
    on: lost - won > 1.645 * sqrt(lost + won)). On 60 rows one post more wrong is 1.7 points of
    macro-F1: the first condition alone would refuse a model for a single post."""
    figures, worse = {}, []
    for name, rows in named_rows.items():
        (new, new_ok), (old, old_ok) = _score(rows, candidate), _score(rows, baseline)
        lost = sum(1 for a, b in zip(new_ok, old_ok) if b and not a)
        won = sum(1 for a, b in zip(new_ok, old_ok) if a and not b)
        significant = lost - won > MCNEMAR_Z * math.sqrt(lost + won)
        figures[name] = {"candidate": new, "current": old, "delta": round(new["macro_f1"] - old["macro_f1"], 4),
                         "rows_lost": lost, "rows_won": won}
        if new["macro_f1"] < old["macro_f1"] - tolerance and significant:
            worse.append(f"{name}: macro-F1 {new['macro_f1']:.4f} < current {old['macro_f1']:.4f} "
                         f"- tolerance {tolerance}, {lost} row(s) newly wrong against {won} newly right "
                         f"(n={new['n']})")
    if worse:
        return False, "worse than the current model on " + "; ".join(worse), figures
    return True, "not worse than the current model on " + ", ".join(
        f"{n} ({f['candidate']['macro_f1']:.4f} vs {f['current']['macro_f1']:.4f}, "
        f"{f['rows_lost']} lost / {f['rows_won']} won)" for n, f in figures.items()), figures


def run_adapt(store, registry: ModelRegistry, *, train: Callable[..., dict], analyzer_for: Callable[[Path | None], object],
              dev_rows: Sequence[dict], extra_rows: Sequence[dict] = (), since: datetime | None = None,
              tolerance: float = DEFAULT_TOLERANCE, actor: str = SYSTEM_ACTOR,
              echo: Callable[[str], None] = lambda m: None) -> Verdict:
    """Export, train, judge, and promote when not worse. The caller holds registry.adapt_lock().

    `train(rows, out_path) -> report` (nlp.adapt.adapt_model's shape); `analyzer_for(path)` builds
    an Analyzer for a model file (None: the bundled model). `extra_rows` are trained on and never
    held back (e.g. a first batch labelled elsewhere)."""
    started = time.monotonic()
    exported = store.training_labels(since)
    for message in exported.skipped:
        echo(message)
    rows = exported.rows
    if not rows and not extra_rows:
        raise AdaptRefused("no labels to train on: decide alerts, label the recall sample or search results "
                           "in the console first (patrol export-labels shows what there is)")
    held = [r for r in rows if label_rules.held_back(r["id"])]
    train_rows = [r for r in rows if not label_rules.held_back(r["id"])] + list(extra_rows)
    if not held:
        raise AdaptRefused(f"{len(rows)} label(s), none in the held-back slice (~20% of posts): too few to judge "
                           "a model on the platform's own posts; label more, then run patrol adapt again")
    if not train_rows:
        raise AdaptRefused("every label fell in the held-back slice: nothing left to train on; label more")
    baseline_version = registry.current()
    echo(f"{len(rows)} label(s): training on {len(train_rows)}, holding back {len(held)}; "
         f"judging against {baseline_version or BUNDLED}")
    with tempfile.TemporaryDirectory(prefix="patrol-adapt-") as tmp:
        out = Path(tmp) / "candidate.skops"
        report = train(train_rows, out)
        version = str(report["model_version"])
        echo(f"trained {version} in {report.get('seconds', 0):.0f} s; evaluating")
        candidate = analyzer_for(out)
        baseline = analyzer_for(registry.current_path())
        ok, reason, figures = judge({"held_back": held, "dev": dev_rows}, candidate, baseline, tolerance)
        card = {"trained_on": {"labels": len(train_rows) - len(extra_rows), "extra": len(extra_rows),
                               "held_back": len(held)},
                "judged_against": baseline_version or BUNDLED, "tolerance": tolerance,
                "figures": figures, "verdict": "promoted" if ok else "refused", "reason": reason,
                "train_report": {k: v for k, v in report.items() if isinstance(v, (str, int, float, bool))}}
        registry.add(out, version, card)
    now = datetime.now(timezone.utc)
    payload = {"version": version, "baseline": baseline_version or BUNDLED, "reason": reason,
               "figures": figures, "tolerance": tolerance}
    if ok:
        try:
            registry.promote(version, expected_current=baseline_version)
        except RegistryChanged as exc:
            ok, reason = False, str(exc)
            payload["reason"] = reason
    store.record_event(actor, "model.promoted" if ok else "model.refused", f"model:{version}", payload, now)
    return Verdict(version, baseline_version or BUNDLED, ok, reason, figures, time.monotonic() - started,
                   exported.skipped)


def promote_by_hand(store, registry: ModelRegistry, version: str, actor: str = SYSTEM_ACTOR) -> str | None:
    """`patrol model promote VERSION`: the operator's choice, audited with the card's figures."""
    mv = registry.get(version)
    before = registry.promote(version)
    store.record_event(actor, "model.promoted", f"model:{version}",
                       {"version": version, "baseline": before or BUNDLED, "reason": "promoted by hand",
                        "figures": mv.card.get("figures", {})}, datetime.now(timezone.utc))
    return before


def rollback(store, registry: ModelRegistry, actor: str = SYSTEM_ACTOR) -> tuple[str, str | None]:
    dropped, restored = registry.rollback()
    figures = registry.get(restored).card.get("figures", {}) if restored else {}
    store.record_event(actor, "model.rolled_back", f"model:{dropped}",
                       {"version": dropped, "restored": restored or BUNDLED, "figures": figures},
                       datetime.now(timezone.utc))
    return dropped, restored
