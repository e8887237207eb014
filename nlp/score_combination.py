"""Combining the rule score with the model's probability, and choosing the primary label.

`combine_scores` is the one place the two are combined, the place to tune it; `combine_batch`
does the same arithmetic on arrays for speed (tests/nlp/test_combine_batch.py holds the two
equal). `choose_primary` picks the best-supported label, severity breaking near-ties.
"""
from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from nlp.categories import HARM_CATEGORIES, NONE, PII_LEAK, most_severe

if TYPE_CHECKING:
    from nlp.rule_scoring import RuleResult

DEFAULT_THRESHOLD = 0.5
# Scores within this margin of the best label count as a tie, and the more severe label wins it:
# calibration noise must not demote self-harm below abuse, but a gambling ad scored 0.98 that
# also trips fraud at 0.80 is a gambling ad.
PRIMARY_TIE_MARGIN = 0.05


def choose_primary(labels: Iterable[str], scores: dict[str, float], margin: float = PRIMARY_TIE_MARGIN) -> str:
    """The best-supported of `labels`: the highest score, and among labels within `margin` of
    it the most severe (HARM_CATEGORIES order); `none` without labels. pii_leak is the primary
    only when it is the only label.

    Not the alert's primary: an alert leads with its most severe matched label (the severity
    order of the taxonomy file, nlp/data/taxonomy.yaml; patrol/alerts.py). Here the question is
    which category the post belongs to, and a gambling ad that also says 稳赚不赔 (an
    investment-fraud word) is a gambling ad.
    """
    labels = [c for c in labels if c in HARM_CATEGORIES]
    if not labels:
        return NONE
    if len(labels) > 1 and PII_LEAK in labels:
        # pii_leak says what a post exposes, not what it is: a gambling ad carrying a phone
        # number is a gambling ad (the alert still lists pii_leak among its labels)
        labels = [c for c in labels if c != PII_LEAK]
    best = max(scores.get(c, 0.0) for c in labels)
    return most_severe(c for c in labels if scores.get(c, 0.0) >= best - margin)


def combine_scores(rule: float, model: float | None, factor: float, model_threshold: float = DEFAULT_THRESHOLD,
                   threshold: float = DEFAULT_THRESHOLD) -> float:
    """The final score of one category from the rule score and the model's probability.

    The model's probability is first rescaled so that its own threshold lands on ours (a model
    calibrated to flag at 0.3 flags here at 0.5), then the larger of the two wins: rules catch
    what the model never saw (categories without training data), the model catches phrasing the
    lexicons lack. Counter-speech (`factor` < 1) scales the model's side too, so an anti-fraud
    campaign cannot be flagged by the model alone; the rule score already includes it.
    """
    if model is None:
        return rule
    model = min(1.0, max(0.0, float(model)))
    mt = min(0.99, max(0.01, model_threshold))
    if model <= mt:
        scaled = model / mt * threshold
    else:
        scaled = threshold + (model - mt) / (1.0 - mt) * (1.0 - threshold)
    return max(rule, scaled * factor)


_BY_CATEGORY = operator.itemgetter(*HARM_CATEGORIES)


def combine_batch(rules: Sequence[RuleResult], probs: Sequence[dict[str, float] | None],
                  model_thresholds: dict[str, float], thresholds: dict[str, float]) -> list[dict[str, float]]:
    """`round(combine_scores(...), 4)` for every item and category, the same values to the bit.

    Ten scalar calls and rounds per post cost more than scanning it, so the rows are done on
    arrays: the same IEEE float64 operations in the same order as `combine_scores` (so any change
    there must be made here too; tests/nlp/test_combine_batch.py holds the two equal). Rows the
    arrays cannot take exactly (no model output, a category missing, a non-finite or non-number
    probability) go through `combine_scores` itself.
    """
    out: list[dict[str, float] | None] = [None] * len(rules)
    rows: list[int] = []
    model_rows: list[tuple] = []
    for i, pr in enumerate(probs):
        if pr:
            try:
                model_rows.append(_BY_CATEGORY(pr))
                rows.append(i)
                continue
            except KeyError:
                pass
        out[i] = _combine_one(rules[i], pr, model_thresholds, thresholds)
    if rows:
        try:
            M = np.array(model_rows, dtype=np.float64)
            R = np.array([_BY_CATEGORY(rules[i].scores) for i in rows], dtype=np.float64)
            F = np.array([_BY_CATEGORY(rules[i].factors) for i in rows], dtype=np.float64)
            T = np.array([thresholds[c] for c in HARM_CATEGORIES], dtype=np.float64)
            mt = np.array([min(0.99, max(0.01, model_thresholds.get(c, DEFAULT_THRESHOLD))) for c in HARM_CATEGORIES],
                          dtype=np.float64)
            exact = M.ndim == 2 and all(np.isfinite(a).all() for a in (M, R, F, T, mt))
        except (TypeError, ValueError):
            exact = False
        if not exact:
            for i in rows:
                out[i] = _combine_one(rules[i], probs[i], model_thresholds, thresholds)
        else:
            model = _py_min(1.0, _py_max(0.0, M))
            scaled = np.where(model <= mt, model / mt * T, T + (model - mt) / (1.0 - mt) * (1.0 - T))
            for i, row in zip(rows, _round4(_py_max(R, scaled * F))):
                out[i] = dict(zip(HARM_CATEGORIES, row))
    return out  # type: ignore[return-value]


# Python's max(a, b) is a unless b > a, min(a, b) a unless b < a; np.maximum/np.minimum choose
# differently between 0.0 and -0.0, which would print "-0.0" where the scalar recipe prints "0.0"
def _py_max(a, b):
    return np.where(b > a, b, a)


def _py_min(a, b):
    return np.where(b < a, b, a)


def _combine_one(rules: RuleResult, probs, model_thresholds, thresholds) -> dict[str, float]:
    return {cat: round(combine_scores(rules.scores[cat], probs.get(cat) if probs else None, rules.factors[cat],
                                      model_thresholds.get(cat, DEFAULT_THRESHOLD), thresholds[cat]), 4)
            for cat in HARM_CATEGORIES}


def _round4(x: np.ndarray) -> list[list[float]]:
    """Python's `round(v, 4)` of every element, as nested lists of floats.

    round(v, 4) is the double nearest k/10^4, k the exact decimal value of v*10^4 rounded half
    to even; k/1e4 is one correctly rounded division, so the same double. rint(v*1e4) finds the
    same k unless v*1e4 lies within its own rounding error (< 1e-8 below 1e4) of a half: those
    few elements, and any large one, are rounded by Python.
    """
    y = x * 1e4
    k = np.rint(y)
    out = (k / 1e4).tolist()
    unsure = (np.abs(y - np.floor(y) - 0.5) < 1e-6) | ~(np.abs(y) < 1e8)
    if unsure.any():
        flat = x.tolist()
        for r, c in zip(*np.nonzero(unsure)):
            out[r][c] = round(flat[r][c], 4)
    return out
