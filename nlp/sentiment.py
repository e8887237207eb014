"""Sentiment per post: how negative or positive a text reads, in [-1, 1].

A logistic regression over hashed character 1-3-grams, trained by `nlp/sentiment_train.py` on the
shared datasets' review corpora (ChnSentiCorp hotels, waimai, online shopping; their sentiment
labels), saved as plain arrays (`data/sentiment/model.npz`: weights and intercept, never a pickle).
The training rows are not shipped, only the weights; `data/sentiment/MODEL_CARD.md` gives the
accuracy on the held-out rows beside the published baselines, and says where it is weak: it
learned from reviews, not from posts about incidents.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).parent / "data" / "sentiment" / "model.npz"
N_FEATURES = 2 ** 18
NGRAMS = (1, 3)
NEGATIVE_BELOW = -0.2   # a post scoring below this counts as negative in an event's surge


def vectorizer():
    from sklearn.feature_extraction.text import HashingVectorizer

    # Stateless: the same hashing at training and at serving, nothing to save but the weights.
    return HashingVectorizer(analyzer="char", ngram_range=NGRAMS, n_features=N_FEATURES,
                             alternate_sign=False, norm="l2", lowercase=True)


class SentimentModel:
    def __init__(self, path: Path = MODEL_PATH):
        with np.load(path, allow_pickle=False) as data:
            self.coef = data["coef"].astype(np.float32)
            self.intercept = float(data["intercept"][0])
            self.version = str(data["version"][0])
        self._vec = vectorizer()

    def score_batch(self, texts: list[str]) -> list[float]:
        """2·P(positive) − 1 per text; an empty text is 0.0 (no opinion to read)."""
        if not texts:
            return []
        x = self._vec.transform([t or "" for t in texts])
        z = x @ self.coef + self.intercept
        p = 1.0 / (1.0 + np.exp(-z))
        return [0.0 if not (t or "").strip() else round(float(2 * pi - 1), 4) for t, pi in zip(texts, p)]

    def score(self, text: str) -> float:
        return self.score_batch([text])[0]


@lru_cache(maxsize=1)
def default_sentiment() -> SentimentModel:
    return SentimentModel()
