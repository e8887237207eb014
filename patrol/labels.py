"""Officers' labels as training data (issue 15): what a decision teaches, the recall sample's
allocation, and the figures the console shows. Pure functions; the store keeps the rows
(patrol/store/labels.py) and `patrol export-labels` writes them out.

What a decision labels:
- confirm: the category the officer confirms, the alert's unless corrected (Decision.category);
- dismiss as false_positive, counter_speech or news_or_fiction: `none`, since the officer says
  the post is not harmful (counter-speech and reporting name harm without doing it);
- dismiss as duplicate, out_of_scope or other, and escalate: no label. A duplicate may well be
  harmful, and "out of scope"/"other" say nothing about the category.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from nlp.categories import ALL_CODES, NONE
from patrol.reviews import CONFIRM, DISMISS, Decision

ORIGIN_ALERT, ORIGIN_SAMPLE, ORIGIN_SEARCH = "alert", "recall_sample", "search"
ORIGINS = (ORIGIN_ALERT, ORIGIN_SAMPLE, ORIGIN_SEARCH)
# The categories a post can be labelled with: every harm category, and none.
LABEL_CATEGORIES: tuple[str, ...] = ALL_CODES
NOT_HARMFUL_REASONS = ("false_positive", "counter_speech", "news_or_fiction")
DATASET = "officer_decisions"  # the "dataset" of exported rows: the shared row format (docs/LIFECYCLE.md)
Z_95 = 1.959964  # the normal quantile of a two-sided 95% interval


class LabelError(ValueError):
    """A label that cannot be taken: unknown category or origin."""


def check_category(category: str) -> str:
    if category not in LABEL_CATEGORIES:
        raise LabelError(f"unknown category {category!r}; one of {', '.join(LABEL_CATEGORIES)}")
    return category


def label_for_decision(alert_category: str, decision: Decision) -> str | None:
    """The label a decision gives its post, or None when it gives none (module docstring)."""
    if decision.action == CONFIRM:
        return decision.category or alert_category
    if decision.action == DISMISS and decision.reason in NOT_HARMFUL_REASONS:
        return NONE
    return None


def export_row(post_id: str, text: str, category: str) -> dict:
    """One JSONL row for training: no author, source, url or time, only what the model reads."""
    return {"id": f"{DATASET}:{post_id}", "text": text, "category": category, "dataset": DATASET,
            "split": "train"}


def held_back(row_id: str, share: float = 0.2) -> bool:
    """Whether a label row belongs to the held-back slice `patrol adapt` evaluates on. A hash of
    the id, not a random draw: the same post stays on the same side across runs, so a model is
    never judged on a post an earlier candidate was trained on."""
    h = int.from_bytes(hashlib.sha256(row_id.encode("utf-8")).digest()[:8], "big")
    return h / 2**64 < share


@dataclass(frozen=True)
class Interval:
    """A proportion k/n with its 95% Wilson score interval."""

    k: int
    n: int
    rate: float | None
    low: float | None
    high: float | None

    def to_dict(self) -> dict:
        return {"k": self.k, "n": self.n, "rate": self.rate, "low": self.low, "high": self.high}


def wilson(k: int, n: int, z: float = Z_95) -> Interval:
    """The Wilson score interval: unlike the normal approximation it stays inside [0, 1] and is
    not empty at k = 0, which is the usual case for a miss rate."""
    if n <= 0:
        return Interval(k, n, None, None, None)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(k, n, round(p, 4), round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


def allocate_sample(no_alert_by_source: dict[str, int], size: int) -> dict[str, int]:
    """How many posts each source gives to a day's sample of `size`: in proportion to its posts
    without an alert (so the pooled sample estimates the day's miss rate without weights), at
    least one per source that has any (so a small source is never unseen), never more than it has.
    Largest remainders settle the rounding; ties go to the source named first."""
    sources = {s: n for s, n in sorted(no_alert_by_source.items()) if n > 0}
    if size <= 0 or not sources:
        return {}
    total = sum(sources.values())
    if total <= size:
        return dict(sources)
    share = {s: size * n / total for s, n in sources.items()}
    out = {s: min(n, max(1, math.floor(share[s]))) for s, n in sources.items()}
    by_remainder = sorted(sources, key=lambda s: -(share[s] - math.floor(share[s])))
    while sum(out.values()) < size:
        grew = False
        for s in by_remainder:
            if sum(out.values()) >= size:
                break
            if out[s] < sources[s]:
                out[s] += 1
                grew = True
        if not grew:
            break
    return out
