"""Hashed rjieba words of the normalised text, cut for the whole batch at once."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from nlp.char_ngrams import _codes, _count_matrix, _l2_rows, _mix  # noqa: F401
from nlp.segment import Segmenter

# --- words ---------------------------------------------------------------------------------------


_SEGMENTER = Segmenter()
_WORD_P = np.uint64(0x9E3779B97F4A7C15 | 1)
_WORD_P_INV = np.uint64(pow(0x9E3779B97F4A7C15 | 1, -1, 1 << 64))  # P is odd, so it has an inverse
_WORD_SALT = np.uint64(0x5851F42D4C957F2D)
_BOUNDARY = str.maketrans({"\n": " ", "\r": " "})


def segment(text: str) -> list[str]:
    """rjieba words via the shared picklable wrapper (the search index cuts the same way)."""
    return _SEGMENTER.cut(text)


def segment_batch(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """(words, document index of each word) from ONE rjieba call over the batch joined by
    newlines: per-call overhead is most of the cost of short posts, and so is a Python loop over
    tokens, which is why the boundaries are found with numpy."""
    words, rows, _ = _segment_batch(texts)
    return words, rows


def _segment_batch(texts: Sequence[str]) -> tuple[list[str], np.ndarray, bool]:
    """`segment_batch`, and whether each text was cut as given (no line breaks to blank out),
    so that its words are `segment(text)`'s once whitespace tokens are dropped."""
    tokens, lens, codes, keep, doc, first, exact = _cut_batch(texts)
    if tokens is None:
        return [], np.zeros(0, dtype=np.int64), exact
    return [t for t, k in zip(tokens, keep.tolist()) if k], doc[keep], exact


def _cut_batch(texts: Sequence[str]):
    """One rjieba call over the batch joined by newlines: (tokens, token lengths, code points of
    all tokens, which tokens are words, document of each token, first code point of each token,
    cut as given?). The separators
    and single spaces are found from lengths and first code points in numpy, with no Python
    loop or object array over the tokens. tokens is None for an empty result; when the
    segmenter merged a boundary, every text is cut on its own."""
    if not texts:
        return None, None, None, None, None, None, True
    joined = "\n".join(texts)
    exact = True
    if "\r" in joined or joined.count("\n") != len(texts) - 1:
        joined = "\n".join(t.replace("\r", " ").replace("\n", " ") for t in texts)
        exact = False
    tokens = _SEGMENTER._tokenizer().cut(joined)
    if not tokens:
        return None, None, None, None, None, None, exact
    lens = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    codes = _codes("".join(tokens))
    first = codes[np.cumsum(lens) - lens]
    single = lens == 1
    is_sep = single & (first == 10)
    keep = ~is_sep & ~(single & (first == 32))
    doc = np.cumsum(is_sep)
    if int(doc[-1]) != len(texts) - 1:  # the segmenter merged a boundary: one call a text
        per = [segment(t) for t in texts]
        tokens = [w for words in per for w in words]
        if not tokens:
            return None, None, None, None, None, None, True
        lens = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        codes = _codes("".join(tokens))
        keep = np.ones(len(tokens), dtype=bool)
        doc = np.repeat(np.arange(len(texts)), [len(words) for words in per])
        first = codes[np.cumsum(lens) - lens]
        exact = True
    return tokens, lens, codes, keep, doc, first, exact


def _word_hashes(tokens: Sequence[str], n_features: int) -> np.ndarray:
    """Column of each token: a polynomial hash over its code points, computed for all tokens at
    once from prefix sums (h = sum c_k P^k, shifted to the token's start by P^-start)."""
    if not tokens:
        return np.zeros(0, dtype=np.int64)
    lens = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    return _hashes_of_codes(_codes("".join(tokens)), lens, n_features)


def _hashes_of_codes(codes: np.ndarray, lens: np.ndarray, n_features: int) -> np.ndarray:
    """`_word_hashes` from the tokens' concatenated code points and lengths. A token's hash
    depends on its own code points only (the shift by P^-start is exact modulo 2^64, P being
    odd), so hashing separators alongside changes no word's column."""
    codes = codes + np.uint64(1)
    k = len(codes)
    powers = np.cumprod(np.full(k, _WORD_P, dtype=np.uint64))  # P^1 .. P^k
    prefix = np.zeros(k + 1, dtype=np.uint64)
    np.cumsum(codes * powers, out=prefix[1:])
    ends = np.cumsum(lens)
    starts = ends - lens
    inv = np.cumprod(np.full(k + 1, _WORD_P_INV, dtype=np.uint64))  # P^-1 .. P^-(k+1)
    h = (prefix[ends] - prefix[starts]) * inv[starts]  # = sum c P^(j - start + 1)
    h = _mix(h ^ (lens.astype(np.uint64) * _WORD_SALT))
    return (h % np.uint64(n_features)).astype(np.int64)


def word_index(word: str, n_features: int) -> int:
    """The column of one word; the same arithmetic as `word_matrix`, so explain() can name it."""
    return int(_word_hashes([word], n_features)[0])


def word_matrix(texts: Sequence[str], n_features: int) -> sp.csr_matrix:
    return _word_matrix(texts, n_features)[0]


def _word_matrix(texts: Sequence[str], n_features: int):
    tokens, lens, codes, keep, doc, first, exact = _cut_batch(texts)
    if tokens is None:
        return sp.csr_matrix((len(texts), n_features), dtype=np.float32), None
    cols = _hashes_of_codes(codes, lens, n_features)
    rows = doc[keep].astype(np.int64)
    m = _count_matrix(rows, cols[keep], len(texts), n_features)
    np.log1p(m.data, out=m.data)
    return _l2_rows(m), (tokens, doc, cols, keep, first) if exact else None


