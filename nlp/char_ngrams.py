"""Hashed character n-grams of a whole batch at once, in numpy.

scikit-learn's HashingVectorizer spends ~100 µs per 100-character post building n-gram strings in
Python. Here the batch is joined, encoded to UTF-32 code points, and every n-gram's hash is
computed as array arithmetic. The same hash is computed for one n-gram string in `ngram_index`,
which is how `explain` names features.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_MUL = np.uint64(0x100000001B3)
_ORDER_SALT = (np.uint64(0), np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F),
               np.uint64(0x165667B19E3779F9), np.uint64(0x27D4EB2F165667C5))


# --- character n-grams ---------------------------------------------------------------------------


def _mix(h: np.ndarray) -> np.ndarray:
    # splitmix64 finaliser: neighbouring code points must not land in neighbouring buckets.
    h = h ^ (h >> np.uint64(30))
    h = h * _MIX1
    h = h ^ (h >> np.uint64(27))
    h = h * _MIX2
    return h ^ (h >> np.uint64(31))


def _codes(text: str) -> np.ndarray:
    # surrogatepass: binary garbage decoded with surrogateescape must not crash the batch.
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)


def _char_ngram_columns(texts: Sequence[str], bits: int, max_n: int, where: bool = True):
    """For every character n-gram (n = 1..max_n) of every text: (doc, start, n, column), as arrays
    in the order n = 1, 2, ..., positions ascending within each n. `where=False` leaves start
    and n empty (the matrix needs only doc and column)."""
    n_docs = len(texts)
    lens = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n_docs)
    total = int(lens.sum())
    empty = np.zeros(0, dtype=np.int64)
    if total == 0:
        return empty, empty, empty, empty
    codes = _codes("".join(texts))
    starts = np.zeros(n_docs, dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    doc = np.repeat(np.arange(n_docs, dtype=np.int64), lens)
    pos = np.arange(total, dtype=np.int64)
    remaining = np.repeat(starts + lens, lens) - pos  # chars left in doc
    offset = pos - np.repeat(starts, lens) if where else None
    mask = np.uint64((1 << bits) - 1)
    docs, offs, ns, cols = [], [], [], []
    h = np.zeros(total, dtype=np.uint64)
    for n in range(1, max_n + 1):
        # h[i] is the rolling hash of codes[i : i+n]
        shifted = np.zeros(total, dtype=np.uint64)
        shifted[: total - n + 1] = codes[n - 1:]
        h = h * _MUL + shifted + np.uint64(1)
        ok = remaining >= n
        docs.append(doc[ok])
        if where:
            offs.append(offset[ok])
            ns.append(np.full(len(docs[-1]), n, dtype=np.int64))
        cols.append((_mix(h[ok] ^ _ORDER_SALT[n]) & mask).astype(np.int64))
    if not where:
        return np.concatenate(docs), empty, empty, np.concatenate(cols)
    return np.concatenate(docs), np.concatenate(offs), np.concatenate(ns), np.concatenate(cols)


def _count_matrix(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """The canonical CSR matrix (indices sorted within each row, duplicates summed) of how often
    each (row, col) occurs, float32: exactly what `csr_matrix((ones, (rows, cols)))` followed by
    `sum_duplicates()` builds. Its entry order fixes the order of the float32 sums in the norms
    and in X @ W, so it must stay what the model was trained with.

    The keys row·2^b + col are sorted by least-significant-digit radix sort, 16 bits a pass,
    each pass one stable numpy argsort of uint16 (a linear-time radix sort): about half the time
    of scipy's per-row comparison sorts, which dominated the cost of the features."""
    if len(rows) == 0:
        return sp.csr_matrix((n_rows, n_cols), dtype=np.float32)
    col_bits = max(1, (n_cols - 1).bit_length())
    keys = (rows.astype(np.uint64) << np.uint64(col_bits)) | cols.astype(np.uint64)
    width = col_bits + max(1, (n_rows - 1).bit_length())
    for shift in range(0, width, 16):
        digit = ((keys >> np.uint64(shift)) & np.uint64(0xFFFF)).astype(np.uint16)
        keys = keys[np.argsort(digit, kind="stable")]
    first = np.empty(len(keys), dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    at = np.flatnonzero(first)
    uniq = keys[at]
    counts = np.diff(np.append(at, len(keys))).astype(np.float32)
    row_of = (uniq >> np.uint64(col_bits)).astype(np.int64)
    idx_dtype = np.int32 if max(n_cols, len(uniq)) < np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(n_rows + 1, dtype=idx_dtype)
    np.cumsum(np.bincount(row_of, minlength=n_rows), out=indptr[1:])
    indices = (uniq & np.uint64((1 << col_bits) - 1)).astype(idx_dtype)
    m = sp.csr_matrix((counts, indices, indptr), shape=(n_rows, n_cols), copy=False)
    m.has_canonical_format = True
    return m


def char_ngram_matrix(texts: Sequence[str], bits: int, max_n: int) -> sp.csr_matrix:
    """Rows of l2-normalised, log-scaled counts of hashed character 1..max_n-grams."""
    doc, _, _, cols = _char_ngram_columns(texts, bits, max_n, where=False)
    m = _count_matrix(doc, cols, len(texts), 1 << bits)
    np.log1p(m.data, out=m.data)
    return _l2_rows(m)


def ngram_index(ngram: str, bits: int) -> int:
    """The column of one character n-gram; the same arithmetic as `char_ngram_matrix`."""
    h = np.zeros(1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in _codes(ngram):
            h = h * _MUL + np.uint64(c) + np.uint64(1)
        return int((_mix(h ^ _ORDER_SALT[len(ngram)]) & np.uint64((1 << bits) - 1))[0])


def _l2_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    # the very reduction `m.multiply(m).sum(axis=1)` runs inside scipy, minus its overhead:
    # the same float32 sums in the same order, so the same norms to the last bit
    sq = np.zeros(m.shape[0], dtype=np.float32)
    nonempty = np.flatnonzero(np.diff(m.indptr))
    if len(nonempty):
        sq[nonempty] = np.add.reduceat(m.data * m.data, m.indptr[nonempty].astype(np.intp))
    norms = np.sqrt(sq, dtype=np.float64)
    norms[norms == 0] = 1.0
    inv = (1.0 / norms).astype(np.float32)
    m.data *= np.repeat(inv, np.diff(m.indptr))
    return m


