"""The model's encoder stage: a logistic scorer per category over the sentence embedding and the
mix that joins it to the n-gram side (numbers only; the embedding itself is `nlp.encoder`)."""
from __future__ import annotations

import numpy as np

from nlp import encoder
from nlp.features import Prepared


class ModelLoadError(ValueError):
    """A model file that cannot be used; the message names the file and the reason."""


class EncoderHead:
    """The encoder stage: per category, a logistic scorer over the sentence embedding, and a mix
    that turns the n-gram score and the encoder score into one calibrated probability
    (p = sigmoid(a * s_ngrams + c * s_encoder + d), fitted on the tune half of dev), with the
    thresholds chosen on those probabilities."""

    def __init__(self, weights: np.ndarray, intercepts: np.ndarray, mix: np.ndarray, thresholds: np.ndarray,
                 name: str = encoder.ENCODER_NAME):
        self.weights = np.asarray(weights, dtype=np.float32)  # (DIM, n_labels)
        self.intercepts = np.asarray(intercepts, dtype=np.float32)  # (n_labels,)
        self.mix = np.asarray(mix, dtype=np.float64)  # (n_labels, 3)
        self.thresholds = np.asarray(thresholds, dtype=np.float64)  # (n_labels,)
        self.name = name

    def check(self, n_labels: int) -> None:
        if self.weights.shape != (encoder.DIM, n_labels) or self.mix.shape != (n_labels, 3) \
                or self.intercepts.shape != (n_labels,) or self.thresholds.shape != (n_labels,):
            raise ModelLoadError(f"encoder stage has shapes {self.weights.shape}/{self.mix.shape}, "
                                 f"the model has {n_labels} labels")
        if self.name != encoder.ENCODER_NAME:
            raise ModelLoadError(f"encoder stage trained on {self.name!r}, this code embeds with "
                                 f"{encoder.ENCODER_NAME!r}; retrain with `patrol train`")

    def scores(self, embeddings: np.ndarray) -> np.ndarray:
        return np.asarray(embeddings @ self.weights, dtype=np.float64) + self.intercepts

    def combine(self, fast_scores: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        z = fast_scores * self.mix[:, 0] + self.scores(embeddings) * self.mix[:, 1] + self.mix[:, 2]
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def to_state(self) -> dict:
        return {"name": self.name, "weights": self.weights.astype(np.float32),
                "intercepts": self.intercepts.astype(np.float32), "mix": self.mix.astype(np.float64),
                "thresholds": self.thresholds.astype(np.float64)}

    @classmethod
    def from_state(cls, state: dict, source: str) -> "EncoderHead":
        try:
            return cls(state["weights"], state["intercepts"], state["mix"], state["thresholds"], state["name"])
        except (KeyError, TypeError) as exc:
            raise ModelLoadError(f"{source}: bad encoder stage ({exc})") from exc


def encoder_text(p: Prepared) -> str:
    """What the encoder reads of a post: its normalised text (evasions undone), as in training."""
    return p.normalised[: encoder.MAX_CHARS]


