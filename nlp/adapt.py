"""Adapting the shipped model to a platform: fitting its platform layer (`nlp.platform_layer`) on
the officers' decisions and writing a model file that carries it.

`patrol adapt --labels FILE --out MODEL` calls `adapt_model(read_label_rows(FILE), MODEL)`. The
shipped model itself is left as it is (it is the full recipe, trained on every labelled row Patrol
has); the new file is that model plus a layer fitted on the labels alone, so what the officers
decided is not drowned by 130,000 other rows. Nothing is promoted here: the model lifecycle decides.

Choices, and why:
- The regularisation strength C is chosen by stratified cross-validation on the labels themselves
  (macro-F1 over folds) when every class has at least `MIN_PER_CLASS_FOR_CV` rows; with fewer, a
  fixed value that worked across sample sizes on held-back real posts (nlp/README.md has figures).
- The decision memory's weight (`MEMORY_GRID`, 0 = off) is chosen in the same cross-validation,
  with each post's own entry left out of its features, so it is used only where it helps.
- Classes are weighted to balance, because officers decide far more of some kinds than others and
  macro-F1 (every class counts the same) is how a platform's moderators judge a classifier.
- The same text twice with two labels keeps the later decision: an officer's correction wins.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from nlp import encoder
from nlp.categories import HARM_CATEGORIES, NONE
from nlp.platform_layer import DecisionMemory, NgramVectoriser, PlatformLayer

KNOWN = frozenset(HARM_CATEGORIES) | {NONE}
C_GRID = (3.0, 10.0, 30.0)
DEFAULT_C = 10.0
# The decision memory's weight in the features (0 leaves it out); cross-validation picks one.
# Without cross-validation (too few labels) it stays out: a class of one or two decided posts has
# no near neighbour of its own in fitting, so the layer would learn that nearness means nothing.
MEMORY_GRID = (0.0, 1.0)
DEFAULT_MEMORY = 0.0
MIN_PER_CLASS_FOR_CV = 10
FOLDS = 5
BASE_SCALE = 1.0
EMBED_SCALE = 1.0
MAX_TEXT = 2000  # characters of a label's text the layer reads; labels are posts, not pages
SEED = 0


class LabelFileError(ValueError):
    """A labels file that cannot be used: the file, the line and the reason. Adapting stops, because
    a model silently trained on part of the officers' decisions is worse than none."""

    def __init__(self, path: str | Path, lineno: int, reason: str):
        self.path, self.lineno, self.reason = str(path), lineno, reason
        super().__init__(f"{path}:{lineno}: {reason}" if lineno else f"{path}: {reason}")


class AdaptError(ValueError):
    """Labels that cannot train a layer (too few, a single class); the message says what is missing."""


def read_label_rows(path: str | Path) -> list[dict]:
    """The rows of a labels file (JSONL: `id`, `text`, `category`, optionally `dataset`, `split`),
    validated; any broken line raises `LabelFileError` with its number."""
    path = Path(path)
    if not path.is_file():
        raise LabelFileError(path, 0, "no such file")
    rows: list[dict] = []
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise LabelFileError(path, lineno, f"not UTF-8 (byte {exc.start + 1})") from exc
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelFileError(path, lineno, f"not JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise LabelFileError(path, lineno, "not a JSON object")
            for field in ("text", "category"):
                if not isinstance(row.get(field), str):
                    raise LabelFileError(path, lineno, f"missing or non-text field {field!r}")
            if row["category"] not in KNOWN:
                raise LabelFileError(path, lineno, f"unknown category {row['category']!r} "
                                                   f"(known: {', '.join(sorted(KNOWN))})")
            if not row["text"].strip():
                raise LabelFileError(path, lineno, "empty text")
            row.setdefault("id", f"{path.name}:{lineno}")
            rows.append(row)
    if not rows:
        raise LabelFileError(path, 0, "no labelled rows")
    return rows


def _deduplicated(rows: Sequence[dict]) -> list[dict]:
    latest: dict[str, dict] = {}
    for r in rows:
        latest.pop(r["text"], None)  # re-inserted last: the later decision wins, in its place
        latest[r["text"]] = r
    return list(latest.values())


def _base_model(base: Path | None, use_encoder: bool):
    from nlp import model as model_mod

    m = model_mod.HarmModel.load(base, use_encoder=use_encoder) if base else model_mod.load_bundled(use_encoder)
    if m is None:
        raise AdaptError("no model to adapt: none ships in nlp/data/model/ and none was given")
    m.platform = None  # an adapted model is adapted again from its base, never layer on layer
    return m


def base_view(rows: Sequence[dict], model, lexicon_dir=None) -> tuple[list[str], np.ndarray]:
    """What the layer reads of each row: the normalised text and the shipped model's final scores."""
    from nlp.analyzer import Analyzer
    from nlp.lexicon import Lexicon

    analyzer = Analyzer(Lexicon.load(lexicon_dir), model=model)
    analyses = analyzer.analyse_batch([r["text"][:MAX_TEXT] for r in rows])
    scores = np.array([[a.scores[c] for c in HARM_CATEGORIES] for a in analyses], dtype=np.float64)
    return [a.normalised for a in analyses], scores


def _fit_lr(X, y: np.ndarray, C: float, weights: np.ndarray | None = None):
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=C, max_iter=3000, class_weight="balanced", random_state=SEED)
    lr.fit(X, y, sample_weight=weights)
    return lr


def _choose(candidates: dict[tuple[float, float], object], y: np.ndarray, log: Callable[[str], None]
            ) -> tuple[tuple[float, float], dict]:
    """The (C, memory weight) with the best cross-validated macro-F1; `candidates` maps each pair to
    its feature matrix. Ties go to the pair nearest the defaults, so a flat grid changes nothing."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    default = (DEFAULT_C, DEFAULT_MEMORY) if (DEFAULT_C, DEFAULT_MEMORY) in candidates else next(iter(candidates))
    counts = np.bincount(y)
    if counts.min() < MIN_PER_CLASS_FOR_CV:
        log(f"adapt: {counts.min()} row(s) in the smallest class, too few to cross-validate; "
            f"C={default[0]:g}, memory={default[1]:g}")
        return default, {}
    folds = list(StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y))
    found = {}
    for key, X in candidates.items():
        pred = np.empty_like(y)
        for tr, te in folds:
            pred[te] = _fit_lr(X[tr], y[tr], key[0]).predict(X[te])
        found[key] = float(f1_score(y, pred, average="macro"))

    def nearness(k):  # to the defaults: a tie keeps the memory out
        return abs(np.log(k[0] / DEFAULT_C)) + abs(k[1] - DEFAULT_MEMORY)
    best = max(found, key=lambda k: (round(found[k], 4), -nearness(k)))
    log("adapt: cross-validated macro-F1 " + ", ".join(f"C={c:g}/memory={m:g}: {f:.3f}" for (c, m), f in found.items())
        + f"; chose C={best[0]:g}, memory={best[1]:g}")
    return best, found


def _shell(classes, vectoriser, use_encoder: bool, memory: DecisionMemory | None, memory_scale: float) -> PlatformLayer:
    """A layer with zero weights, only to build the features exactly as scoring will."""
    n_features = (len(vectoriser.vocabulary) + len(HARM_CATEGORIES) + (encoder.DIM if use_encoder else 0)
                  + (memory.n_features if memory is not None else 0))
    return PlatformLayer(classes, vectoriser, np.zeros((n_features, len(classes))), np.zeros(len(classes)),
                         BASE_SCALE, EMBED_SCALE, use_encoder, memory=memory, memory_scale=memory_scale)


def fit_layer(rows: Sequence[dict], model, *, use_encoder: bool, lexicon_dir=None,
              memory_grid: Sequence[float] = MEMORY_GRID, c_grid: Sequence[float] = C_GRID,
              log: Callable[[str], None] = lambda s: None, view=None) -> tuple[PlatformLayer, dict]:
    """`view`: the rows' (normalised texts, base scores, embeddings) when the caller has them."""
    rows = _deduplicated(rows)
    classes = sorted({r["category"] for r in rows}, key=lambda c: (c == NONE, c))
    if len(classes) < 2:
        raise AdaptError(f"the labels hold one category only ({classes[0]}); a layer needs at least two, "
                         "for example dismissed false positives as 'none'")
    y = np.array([classes.index(r["category"]) for r in rows])
    if view is None:
        normalised, base = base_view(rows, model, lexicon_dir)
        embeddings = encoder.embed([t[: encoder.MAX_CHARS] for t in normalised]) if use_encoder else None
    else:
        normalised, base, embeddings = view
    vectoriser = NgramVectoriser.fit(normalised)
    memory = DecisionMemory(y, vectoriser.transform(normalised), embeddings, len(classes))
    candidates = {}
    for m in memory_grid:
        X = _shell(classes, vectoriser, use_encoder, memory if m else None, m).features(
            normalised, base, embeddings, exclude_self=True)
        for C in c_grid:
            candidates[(C, m)] = X
    (C, m), cv = _choose(candidates, y, log)
    lr = _fit_lr(candidates[(C, m)], y, C)
    coef, intercept = lr.coef_, lr.intercept_
    if coef.shape[0] == 1:  # two classes: scikit-learn keeps one row; softmax of (-z/2, z/2) is sigmoid(z)
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    counts = {c: int((y == j).sum()) for j, c in enumerate(classes)}
    meta = {"labels": len(rows), "per_class": counts, "C": C, "memory_scale": m,
            "cv_macro_f1": {f"C={c:g}/memory={mm:g}": round(v, 4) for (c, mm), v in cv.items()},
            "vocabulary": len(vectoriser.vocabulary), "encoder": use_encoder}
    layer = PlatformLayer(classes, vectoriser, coef.T, intercept, BASE_SCALE, EMBED_SCALE, use_encoder, meta,
                          memory=memory if m else None, memory_scale=m)
    return layer, meta


def adapt_model(rows: Sequence[dict], out: str | Path, *, base: str | Path | None = None,
                use_encoder: bool | None = None, lexicon_dir=None,
                log: Callable[[str], None] = lambda s: None) -> dict:
    """Fit a platform layer on `rows` over the model at `base` (default: the shipped one), write the
    model with it to `out`, and return a report: model_version, base_version, seconds, and the
    layer's figures. Promotes nothing."""
    started = time.perf_counter()
    if use_encoder is None:
        use_encoder = encoder.available()
    model = _base_model(Path(base) if base else None, use_encoder=True)
    base_version = model.version
    layer, meta = fit_layer(rows, model, use_encoder=use_encoder, lexicon_dir=lexicon_dir, log=log)
    digest = hashlib.sha256()
    for a in (layer.weights, layer.intercepts):
        digest.update(np.ascontiguousarray(a).tobytes())
    digest.update("\n".join(layer.vectoriser.vocabulary).encode("utf-8"))
    model.platform = layer
    model.version = f"{base_version}+p-{digest.hexdigest()[:10]}"
    model.meta = {**model.meta, "adapted": {"base_version": base_version, **meta}}
    path = model.save(Path(out))
    report = {"model_version": model.version, "base_version": base_version, "out": str(path),
              "seconds": round(time.perf_counter() - started, 1), **meta}
    log(f"adapt: wrote {path} ({model.version}) from {meta['labels']} label(s) in {report['seconds']} s")
    return report
