"""Fitting the model's numbers: the linear scorers, Platt calibration, thresholds, and the figures
that judge them. Pure functions of arrays and rows; `nlp.train` runs them in order."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from nlp.training_data import is_real

@dataclass
class LabelMetrics:
    precision: float
    recall: float
    f1: float
    support: int
    threshold: float


def row_weights(rows: Sequence[dict], real_weight: float) -> np.ndarray:
    return np.array([real_weight if is_real(r) else 1.0 for r in rows])


def fit_linear(X, Y: np.ndarray, params, seed: int,
               weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import SGDClassifier

    weights = np.ones(Y.shape[0]) if weights is None else weights

    W = np.zeros((X.shape[1], Y.shape[1]), dtype=np.float32)
    b = np.zeros(Y.shape[1], dtype=np.float32)
    for j in range(Y.shape[1]):
        y = Y[:, j]
        pos = int(y.sum())
        if pos == 0:
            b[j] = -10.0  # a label with no examples never fires from the model
            continue
        w_pos = float(np.clip((len(y) - pos) / pos * 0.5, 1.0, params.positive_weight_cap))
        sw = np.where(y, w_pos, 1.0) * weights
        clf = SGDClassifier(loss="log_loss", alpha=params.alpha, max_iter=params.epochs, tol=None,
                            random_state=seed + j, learning_rate="optimal")
        clf.fit(X, y, sample_weight=sw)
        W[:, j] = clf.coef_[0]
        b[j] = clf.intercept_[0]
    return W, b


def fit_platt(scores: np.ndarray, Y: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    platt = np.tile([1.0, 0.0], (Y.shape[1], 1))
    for j in range(Y.shape[1]):
        y = Y[:, j]
        if 0 < y.sum() < len(y):
            lr = LogisticRegression(C=1e4).fit(scores[:, [j]], y)
            platt[j] = [lr.coef_[0, 0], lr.intercept_[0]]
    return platt


def best_f1_threshold(p: np.ndarray, y: np.ndarray, floor: float = 0.2, tolerance: float = 0.002) -> float:
    """The LOWEST probability cut whose F1 on these rows is within `tolerance` of the best.

    Silver dev data is nearly separable, so many cuts tie on F1; the lowest keeps the most recall
    for real posts, which look less like the templates than the silver dev rows do. False
    positives on clean text are then bounded separately by `cap_clean_fp`.
    """
    if y.sum() == 0:
        return 0.5
    order = np.argsort(-p)
    ps, ys = p[order], y[order]
    tp = np.cumsum(ys)
    k = np.arange(1, len(ps) + 1)
    f1 = 2 * tp / (k + ys.sum())
    # only cut between distinct probabilities
    distinct = np.r_[ps[1:] != ps[:-1], True]
    f1 = np.where(distinct, f1, -1)
    good = np.flatnonzero(f1 >= f1.max() - tolerance)
    i = int(good[-1])
    nxt = ps[i + 1] if i + 1 < len(ps) else 0.0
    return float(max(floor, (ps[i] + nxt) / 2))


def real_post_thresholds(P: np.ndarray, Y: np.ndarray, rows: Sequence[dict], thresholds: np.ndarray,
                         min_positives: int = 30) -> np.ndarray:
    """Per category, the best-F1 cut on the real rows alone, where they hold enough positives."""
    real = np.array([is_real(r) for r in rows], dtype=bool)
    out = thresholds.copy()
    for j in range(Y.shape[1]):
        if real.any() and int(Y[real, j].sum()) >= min_positives:
            out[j] = best_f1_threshold(P[real, j], Y[real, j], floor=0.05)
    return out


def cap_clean_fp(P: np.ndarray, Y: np.ndarray, clean: np.ndarray, thresholds: np.ndarray,
                 target: float, max_threshold: float = 0.99) -> np.ndarray:
    """Raise thresholds, worst offender first, until at most `target` of clean rows are flagged."""
    t = thresholds.copy()
    Pc = P[clean]
    for _ in range(200):
        flagged = Pc >= t
        rate = flagged.any(axis=1).mean() if len(Pc) else 0.0
        if rate <= target:
            break
        j = int(np.argmax(flagged.sum(axis=0)))
        vals = np.sort(Pc[flagged[:, j], j])
        if t[j] >= max_threshold or len(vals) == 0:
            break
        # drop the lowest-scoring quarter of this label's clean false positives
        t[j] = min(max_threshold, float(vals[len(vals) // 4]) + 1e-6)
    return t


def binary_metrics(pred: np.ndarray, y: np.ndarray, threshold: float) -> LabelMetrics:
    tp = int((pred & y).sum())
    fp = int((pred & ~y).sum())
    fn = int((~pred & y).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return LabelMetrics(round(p, 4), round(r, 4), round(f, 4), int(y.sum()), round(float(threshold), 4))


def fit_encoder_head(E: np.ndarray, Y: np.ndarray, C: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per category, a logistic scorer over sentence embeddings (classes balanced: the mix that
    follows recalibrates). A category without positives here never fires from this side."""
    from sklearn.linear_model import LogisticRegression

    W = np.zeros((E.shape[1], Y.shape[1]), dtype=np.float32)
    b = np.full(Y.shape[1], -10.0, dtype=np.float32)
    for j in range(Y.shape[1]):
        y = Y[:, j]
        if 0 < y.sum() < len(y):
            lr = LogisticRegression(C=C, class_weight="balanced", max_iter=1000, random_state=seed).fit(E, y)
            W[:, j] = lr.coef_[0]
            b[j] = lr.intercept_[0]
    return W, b


def fit_mix(fast: np.ndarray, enc: np.ndarray, Y: np.ndarray, platt: np.ndarray) -> np.ndarray:
    """Per category (a, c, d) of p = sigmoid(a * fast + c * enc + d), a two-input logistic fit on the
    tune rows; where those hold no positive, the n-gram side's own calibration and no encoder."""
    from sklearn.linear_model import LogisticRegression

    mix = np.zeros((Y.shape[1], 3))
    for j in range(Y.shape[1]):
        y = Y[:, j]
        if 0 < y.sum() < len(y):
            lr = LogisticRegression(C=1e4, max_iter=1000).fit(np.c_[fast[:, j], enc[:, j]], y)
            mix[j] = [lr.coef_[0, 0], lr.coef_[0, 1], lr.intercept_[0]]
        else:
            mix[j] = [platt[j, 0], 0.0, platt[j, 1]]
    return mix
