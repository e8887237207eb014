"""The platform layer: what a deployment learns from its own officers' decisions.

Every platform has its own jargon, spellings and spam templates, and the few hundred posts its
officers decided are the closest thing to its traffic that Patrol will ever see. Retraining the
whole model with them beside 130,000 academic and collected rows drowns them (measured: 0.41 -> 0.53
macro-F1 on real moderated posts with 50 decisions per class). This layer instead learns from those
decisions alone, on top of the shipped model:

- character 1-3-grams of the normalised text (evasions undone), TF-IDF weighted over the
  platform's own posts: the platform's vocabulary, which hashed n-grams trained elsewhere miss;
- the shipped model's final score per category: what Patrol already knows (its high precision on
  clear ads, its lexicons' and detectors' reach into categories the officers never labelled);
- the sentence encoder's embedding when the package is there: meaning beyond the exact strings,
  which matters most when there are only a handful of decisions per class;
- a memory of the decided posts (`DecisionMemory`): per category, how close the post comes to the
  nearest decided post of that category, in n-grams and in the embedding. Spam on a platform is
  written from a few templates that vary a word or a number, so "almost the same as a post an
  officer called gambling" is strong evidence that a linear model over separate n-grams only
  approximates. The memory keeps vectors, never the posts' text.

A multinomial logistic regression over the categories the officers used (`none` among them) then
decides those categories: a category is labelled when it is the most probable one. Categories the
officers never used keep the shipped model's scores, so a deployment that only decides gambling and
fraud does not lose self-harm. The layer is numbers and strings only (it lives in the model file,
see `nlp.model`), and scoring needs numpy alone; fitting it is `nlp.adapt`.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from nlp import encoder
from nlp.categories import HARM_CATEGORIES, NONE
from nlp.encoder_stage import ModelLoadError

NGRAM_RANGE = (1, 3)
# The layer's per-category score is (1 + p_c - max other p) / 2: at least 0.5 exactly when c is the
# most probable class, so the Analyzer's one threshold (0.5) applies unchanged.
EXPLAIN_PREFIX = "platform:"


def char_ngrams(text: str, lo: int = NGRAM_RANGE[0], hi: int = NGRAM_RANGE[1]) -> list[str]:
    """Character n-grams of `text` with runs of whitespace folded to one space. Fitting and
    scoring both call this one function, so the vocabulary means the same thing in both."""
    text = " ".join(text.lower().split())
    out = []
    n_chars = len(text)
    for n in range(lo, hi + 1):
        out.extend(text[i:i + n] for i in range(n_chars - n + 1))
    return out


class NgramVectoriser:
    """Sublinear TF x IDF over a fixed vocabulary, rows scaled to unit length (what scikit-learn's
    TfidfVectorizer(analyzer="char", sublinear_tf=True) computes, in numpy, without importing it in
    every classifying process)."""

    def __init__(self, vocabulary: Sequence[str], idf: np.ndarray):
        self.vocabulary = list(vocabulary)
        self.index = {t: i for i, t in enumerate(self.vocabulary)}
        self.idf = np.asarray(idf, dtype=np.float64)
        if len(self.index) != len(self.vocabulary) or self.idf.shape != (len(self.vocabulary),):
            raise ModelLoadError("platform layer: vocabulary and idf do not match")

    @classmethod
    def fit(cls, texts: Sequence[str]) -> "NgramVectoriser":
        df: dict[str, int] = {}
        for t in texts:
            for g in set(char_ngrams(t)):
                df[g] = df.get(g, 0) + 1
        vocab = sorted(df)  # sorted: the same labels give the same file
        n = len(texts)
        idf = np.array([math.log((1 + n) / (1 + df[g])) + 1.0 for g in vocab])
        return cls(vocab, idf)

    def transform(self, texts: Sequence[str]):
        """(len(texts), len(vocabulary)) CSR matrix."""
        from scipy.sparse import csr_matrix

        indptr, indices, data = [0], [], []
        index = self.index
        for t in texts:
            counts: dict[int, int] = {}
            for g in char_ngrams(t):
                j = index.get(g)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            vals = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self.idf[cols]
            norm = float(np.sqrt((vals * vals).sum())) if len(vals) else 0.0
            order = np.argsort(cols)
            indices.append(cols[order])
            data.append(vals[order] / norm if norm else vals[order])
            indptr.append(indptr[-1] + len(cols))
        return csr_matrix((np.concatenate(data) if data else np.zeros(0),
                           np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64), indptr),
                          shape=(len(texts), len(self.vocabulary)))


class DecisionMemory:
    """The decided posts as vectors (their TF-IDF n-gram rows and, with the encoder, their
    embeddings) with their classes. `similarities` gives, per post and per class, the cosine
    similarity to the nearest decided post of that class: 2 x len(classes) features."""

    def __init__(self, labels: np.ndarray, ngram_rows, embeddings: np.ndarray | None, n_classes: int):
        from scipy.sparse import csr_matrix

        self.labels = np.asarray(labels, dtype=np.int64)
        self.ngram_rows = csr_matrix(ngram_rows, dtype=np.float32)
        self.embeddings = None if embeddings is None else np.asarray(embeddings, dtype=np.float32)
        self.n_classes = int(n_classes)
        if self.ngram_rows.shape[0] != len(self.labels) or (
                self.embeddings is not None and self.embeddings.shape[0] != len(self.labels)):
            raise ModelLoadError("platform layer: the decision memory's rows do not match its labels")
        if len(self.labels) and (self.labels.min() < 0 or self.labels.max() >= self.n_classes):
            raise ModelLoadError("platform layer: the decision memory names a class the layer does not have")

    @property
    def n_features(self) -> int:
        return 2 * self.n_classes

    def similarities(self, ngram_rows, embeddings: np.ndarray | None, exclude_self: bool = False) -> np.ndarray:
        """(n, 2 * n_classes): nearest same-class similarity in n-grams, then in the embedding (0
        without one). `exclude_self` (fitting, where the rows ARE the memory) leaves each row's own
        entry out, so the features mean in fitting what they will mean for a new post."""
        n = ngram_rows.shape[0]
        out = np.zeros((n, self.n_features), dtype=np.float64)
        spaces = [np.asarray((ngram_rows @ self.ngram_rows.T).todense(), dtype=np.float64)]
        if self.embeddings is not None and embeddings is not None:
            spaces.append(np.asarray(embeddings, dtype=np.float64) @ self.embeddings.T.astype(np.float64))
        for k, sim in enumerate(spaces):
            if exclude_self:
                np.fill_diagonal(sim, -np.inf)
            for c in range(self.n_classes):
                cols = self.labels == c
                if cols.any():
                    best = sim[:, cols].max(axis=1)
                    out[:, k * self.n_classes + c] = np.where(np.isfinite(best), best, 0.0)
        return out

    def to_state(self) -> dict:
        m = self.ngram_rows
        return {"labels": self.labels, "ngram_data": m.data.astype(np.float32), "ngram_indices": m.indices.astype(np.int32),
                "ngram_indptr": m.indptr.astype(np.int64), "ngram_shape": list(m.shape),
                "embeddings": None if self.embeddings is None else self.embeddings.astype(np.float16)}

    @classmethod
    def from_state(cls, state: dict, n_classes: int) -> "DecisionMemory":
        from scipy.sparse import csr_matrix

        rows = csr_matrix((state["ngram_data"], state["ngram_indices"], state["ngram_indptr"]),
                          shape=tuple(state["ngram_shape"]))
        emb = state.get("embeddings")
        return cls(state["labels"], rows, None if emb is None else np.asarray(emb, dtype=np.float32), n_classes)


class PlatformLayer:
    """Scores the officers' categories from n-grams, the shipped model's scores and (optionally)
    the sentence embedding; see the module docstring."""

    def __init__(self, classes: Sequence[str], vectoriser: NgramVectoriser, weights: np.ndarray,
                 intercepts: np.ndarray, base_scale: float, embed_scale: float, uses_encoder: bool,
                 meta: dict | None = None, memory: DecisionMemory | None = None, memory_scale: float = 0.0):
        self.classes = tuple(classes)
        self.vectoriser = vectoriser
        self.weights = np.asarray(weights, dtype=np.float32)  # (n_features, n_classes)
        self.intercepts = np.asarray(intercepts, dtype=np.float64)
        self.base_scale = float(base_scale)
        self.embed_scale = float(embed_scale)
        self.uses_encoder = bool(uses_encoder)
        self.meta = dict(meta or {})
        self.memory = memory
        self.memory_scale = float(memory_scale)
        if memory is not None and memory.n_classes != len(self.classes):
            raise ModelLoadError("platform layer: the decision memory has other classes than the layer")
        unknown = [c for c in self.classes if c != NONE and c not in HARM_CATEGORIES]
        if unknown:
            raise ModelLoadError(f"platform layer: unknown categories {unknown}")
        if len(self.classes) < 2:
            raise ModelLoadError("platform layer: needs at least two classes")
        expected = (self.n_features, len(self.classes))
        if self.weights.shape != expected or self.intercepts.shape != (len(self.classes),):
            raise ModelLoadError(f"platform layer: weights {self.weights.shape}, expected {expected}")
        self._harm_index = [HARM_CATEGORIES.index(c) if c != NONE else -1 for c in self.classes]

    @property
    def n_features(self) -> int:
        return (len(self.vectoriser.vocabulary) + len(HARM_CATEGORIES) + (encoder.DIM if self.uses_encoder else 0)
                + (self.memory.n_features if self.memory is not None else 0))

    @property
    def harm_classes(self) -> tuple[str, ...]:
        return tuple(c for c in self.classes if c != NONE)

    # --- features, shared with fitting --------------------------------------------------------

    def features(self, normalised: Sequence[str], base_scores: np.ndarray, embeddings: np.ndarray | None,
                 exclude_self: bool = False):
        """The layer's input rows: n-grams | base scores | embedding | memory, as one CSR matrix.
        `exclude_self`: the rows are the memory's own (fitting); see `DecisionMemory.similarities`."""
        from scipy.sparse import csr_matrix, hstack

        ngrams = self.vectoriser.transform(normalised)
        parts = [ngrams, csr_matrix(np.asarray(base_scores) * self.base_scale)]
        if self.uses_encoder:
            if embeddings is None:
                embeddings = encoder.embed([t[: encoder.MAX_CHARS] for t in normalised])
            parts.append(csr_matrix(np.asarray(embeddings) * self.embed_scale))
        if self.memory is not None:
            near = self.memory.similarities(ngrams, embeddings if self.uses_encoder else None, exclude_self)
            parts.append(csr_matrix(near * self.memory_scale))
        return hstack(parts, format="csr")

    def probabilities(self, X) -> np.ndarray:
        z = np.asarray(X @ self.weights, dtype=np.float64) + self.intercepts
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    # --- scoring -----------------------------------------------------------------------------

    def rescore(self, normalised: Sequence[str], final: list[dict[str, float]], top: int = 5
                ) -> tuple[list[dict[str, float]], list[dict[str, tuple[tuple[str, float], ...]]]]:
        """New score dicts (HARM_CATEGORIES order kept) with the officers' categories decided by the
        layer, and per post the n-grams that pushed its winning category up most."""
        if not final:
            return final, []
        base = np.array([[s[c] for c in HARM_CATEGORIES] for s in final], dtype=np.float64)
        X = self.features(normalised, base, None)
        P = self.probabilities(X)
        out, why = [], []
        n_vocab = len(self.vectoriser.vocabulary)
        for i, scores in enumerate(final):
            row = P[i]
            new = dict(scores)
            best = int(row.argmax())
            for j, c in enumerate(self.classes):
                if c == NONE:
                    continue
                other = np.max(np.delete(row, j))
                new[c] = round(float((1.0 + row[j] - other) / 2.0), 4)
            out.append(new)
            explained: dict[str, tuple[tuple[str, float], ...]] = {}
            winner = self.classes[best]
            if winner != NONE:
                lo, hi = X.indptr[i], X.indptr[i + 1]
                cols, vals = X.indices[lo:hi], X.data[lo:hi]
                ngram = cols < n_vocab
                contrib = vals[ngram] * self.weights[cols[ngram], best]
                order = np.argsort(-contrib)[:top]
                reasons = [(EXPLAIN_PREFIX + self.vectoriser.vocabulary[cols[ngram][o]], round(float(contrib[o]), 4))
                           for o in order if contrib[o] > 0]
                near = self._nearness_reason(cols, vals, best)
                if near is not None:
                    reasons = sorted(reasons + [near], key=lambda r: -r[1])[:top]
                explained[winner] = tuple(reasons)
            why.append(explained)
        return out, why

    def _nearness_reason(self, cols, vals, best: int) -> tuple[str, float] | None:
        """'Nearly the same as a post decided as <winner>' as a reason, with the similarity in its
        name, when the memory's feature for the winning class pushed it up."""
        if self.memory is None:
            return None
        start = self.n_features - self.memory.n_features
        k = len(self.classes)
        found = []
        for space, offset in (("n-grams", 0), ("meaning", k)):
            j = start + offset + best
            hit = np.nonzero(cols == j)[0]
            if len(hit):
                contrib = float(vals[hit[0]] * self.weights[j, best])
                if contrib > 0:
                    sim = float(vals[hit[0]]) / self.memory_scale
                    found.append((f"{EXPLAIN_PREFIX}near a decided {self.classes[best]} post ({space} {sim:.2f})",
                                  round(contrib, 4)))
        return max(found, key=lambda r: r[1]) if found else None

    # --- persistence -------------------------------------------------------------------------

    def to_state(self) -> dict:
        return {"classes": list(self.classes), "vocabulary": list(self.vectoriser.vocabulary),
                "idf": self.vectoriser.idf.astype(np.float64), "weights": self.weights.astype(np.float32),
                "intercepts": self.intercepts.astype(np.float64), "base_scale": self.base_scale,
                "embed_scale": self.embed_scale, "uses_encoder": self.uses_encoder,
                "encoder": encoder.ENCODER_NAME if self.uses_encoder else None, "meta": self.meta,
                "memory": self.memory.to_state() if self.memory is not None else None,
                "memory_scale": self.memory_scale}

    @classmethod
    def from_state(cls, state: dict, source: str) -> "PlatformLayer":
        try:
            if state.get("uses_encoder") and state.get("encoder") != encoder.ENCODER_NAME:
                raise ModelLoadError(f"{source}: platform layer embeds with {state.get('encoder')!r}, this code "
                                     f"with {encoder.ENCODER_NAME!r}; run `patrol adapt` again")
            memory = (DecisionMemory.from_state(state["memory"], len(state["classes"]))
                      if state.get("memory") is not None else None)
            return cls(state["classes"], NgramVectoriser(state["vocabulary"], state["idf"]), state["weights"],
                       state["intercepts"], state["base_scale"], state["embed_scale"], state["uses_encoder"],
                       state.get("meta", {}), memory, state.get("memory_scale", 0.0))
        except (KeyError, TypeError) as exc:
            raise ModelLoadError(f"{source}: bad platform layer ({exc})") from exc
