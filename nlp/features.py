"""The model's features: hashed character n-grams and words of the normalised text, plus a small
dense block of rule signals (lexicon hits per category, counter-speech, contact and trade words,
detector hits, shapes such as long digit runs, handles and links).

Speed matters more than elegance here: the whole Analyzer has to beat `jieba.lcut` 3.5 times, and
scikit-learn's HashingVectorizer spends ~100 µs per 100-character post building n-gram strings in
Python. So character n-grams are hashed for the whole batch at once in numpy: the batch is joined,
encoded to UTF-32 code points, and every n-gram's hash is computed as array arithmetic. The same
hash is computed for one n-gram string in `ngram_index`, which is how `explain` names features.

Everything here is stateless: an extractor is rebuilt from its `FeatureConfig` when a model
loads, so nothing but numbers and strings goes into the saved artifact.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from nlp.categories import HARM_CATEGORIES
from nlp.segment import Segmenter

# Harmful posts are short; past this many characters more text only costs time, and a 1 MB post
# must not cost 1 MB of n-grams. Lexicons and detectors still see the whole text (Analyzer).
MAX_MODEL_CHARS = 4000

_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_MUL = np.uint64(0x100000001B3)
_ORDER_SALT = (np.uint64(0), np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F),
               np.uint64(0x165667B19E3779F9), np.uint64(0x27D4EB2F165667C5))


@dataclass(frozen=True)
class FeatureConfig:
    char_bits: int = 18
    char_max_n: int = 3
    word_bits: int = 16
    dense_scale: float = 1.0

    @property
    def n_char(self) -> int:
        return 1 << self.char_bits

    @property
    def n_word(self) -> int:
        return (1 << self.word_bits) if self.word_bits else 0

    def to_dict(self) -> dict:
        return asdict(self)


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


# --- dense rule signals --------------------------------------------------------------------------

# No length feature: the public clean text is long and every harmful source is short, so a
# length bucket became the strongest "self-harm" weight of all ("下班一起吃饭吧" -> 0.93).
_LONG_DIGITS = re.compile(r"[0-9]{5,}")
_HANDLE = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9_\-]*[0-9])(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{5,}")
_LINK = re.compile(r"https?://|www\.|\.(?:top|vip|xyz|cc|club|icu|me|fun|app|link|site|shop)\b", re.I)
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]")
_DETECTOR_KINDS = ("phone", "id", "card", "contact", "address", "link", "plate")

DENSE_NAMES: tuple[str, ...] = (
    tuple(f"lex:{c}" for c in HARM_CATEGORIES)
    + tuple(f"lexweak:{c}" for c in HARM_CATEGORIES)
    + tuple(f"counter:{c}" for c in HARM_CATEGORIES)
    + ("signal:contact", "signal:trade")
    + tuple(f"detector:{k}" for k in _DETECTOR_KINDS)
    + ("shape:long_digits", "shape:handle", "shape:link", "shape:emoji")
)
_DENSE_POS = {name: i for i, name in enumerate(DENSE_NAMES)}


@dataclass(frozen=True)
class Prepared:
    """One text as the model sees it: the normalised text and what the rules found in it.

    `lexicon` is anything with `.hits` (category, weight, weak) and `.exceptions` (category,
    factor), e.g. `nlp.lexicon.Match`; `detections` anything with a `.kind` or `.name`.
    """

    raw: str
    normalised: str
    lexicon: Any = None
    detections: Sequence[Any] = ()


# nlp.detectors kinds -> the model's detector features; unknown kinds are ignored, so a new
# detector changes nothing until the model is retrained with it.
DETECTOR_FEATURE = {
    "mobile": "phone", "cn_id_number": "id", "bank_card": "card", "address": "address",
    "plate_number": "plate", "wechat_id": "contact", "qq_number": "contact", "telegram": "contact",
    "cheap_url": "link",
}


def _detector_kind(d: Any) -> str | None:
    return DETECTOR_FEATURE.get(str(getattr(d, "kind", "")))


def dense_row(p: Prepared) -> np.ndarray:
    v = np.zeros(len(DENSE_NAMES), dtype=np.float32)
    match = p.lexicon
    if match is not None:
        for h in getattr(match, "hits", ()):
            cat = h.category
            if cat in ("contact", "trade"):
                v[_DENSE_POS[f"signal:{cat}"]] += 0.5
            elif f"lex:{cat}" in _DENSE_POS:
                v[_DENSE_POS[("lexweak:" if getattr(h, "weak", False) else "lex:") + cat]] += float(h.weight)
        for e in getattr(match, "exceptions", ()):
            cats = HARM_CATEGORIES if e.category == "*" else (e.category,)
            for cat in cats:
                if f"counter:{cat}" in _DENSE_POS:
                    v[_DENSE_POS[f"counter:{cat}"]] = max(v[_DENSE_POS[f"counter:{cat}"]], 1.0 - float(e.factor))
    for d in p.detections or ():
        kind = _detector_kind(d)
        if kind:
            v[_DENSE_POS[f"detector:{kind}"]] = 1.0
    text = p.normalised
    v[_DENSE_POS["shape:long_digits"]] = 1.0 if _LONG_DIGITS.search(text) else 0.0
    v[_DENSE_POS["shape:handle"]] = 1.0 if _HANDLE.search(text) else 0.0
    v[_DENSE_POS["shape:link"]] = 1.0 if _LINK.search(text) else 0.0
    v[_DENSE_POS["shape:emoji"]] = 1.0 if _EMOJI.search(p.raw) else 0.0
    np.minimum(v, 1.5, out=v)
    return v


_SIGNAL_POS = {c: _DENSE_POS[f"signal:{c}"] for c in ("contact", "trade")}
_LEX_POS = {(c, weak): _DENSE_POS[("lexweak:" if weak else "lex:") + c] for c in HARM_CATEGORIES for weak in (False, True)}
_COUNTER_POS = {c: (_DENSE_POS[f"counter:{c}"],) for c in HARM_CATEGORIES}
_COUNTER_POS["*"] = tuple(_DENSE_POS[f"counter:{c}"] for c in HARM_CATEGORIES)
_DETECTOR_POS = {kind: _DENSE_POS[f"detector:{f}"] for kind, f in DETECTOR_FEATURE.items()}
# what the shapes need before their patterns can match: five handle characters in a row (which
# five digits are too), a letter a link starts with; the plain classes are searched several
# times faster than the patterns, and most posts have neither
_RUN5 = re.compile(r"[A-Za-z0-9_\-]{5}")
_LINK_NEEDS = re.compile(r"[hHwW.]")
_POS_LONG_DIGITS = _DENSE_POS["shape:long_digits"]
_POS_HANDLE = _DENSE_POS["shape:handle"]
_POS_LINK = _DENSE_POS["shape:link"]
_POS_EMOJI = _DENSE_POS["shape:emoji"]


def dense_matrix(prepared: Sequence[Prepared]) -> np.ndarray:
    """`dense_row` of every item as one (n, len(DENSE_NAMES)) float32 array, bit for bit: weights
    are added in float32 in the same order (`np.add.at` is sequential), counter-speech takes the
    same maxima, so a model trained on `dense_row` reads the same numbers."""
    v = np.zeros((len(prepared), len(DENSE_NAMES)), dtype=np.float32)
    add_r, add_c, add_w = [], [], []
    max_r, max_c, max_w = [], [], []
    set_r, set_c = [], []
    for i, p in enumerate(prepared):
        match = p.lexicon
        if match is not None:
            for h in getattr(match, "hits", ()):
                cat = h.category
                pos = _SIGNAL_POS.get(cat)
                if pos is not None:
                    add_r.append(i)
                    add_c.append(pos)
                    add_w.append(0.5)
                    continue
                pos = _LEX_POS.get((cat, bool(getattr(h, "weak", False))))
                if pos is not None:
                    add_r.append(i)
                    add_c.append(pos)
                    add_w.append(float(h.weight))
            for e in getattr(match, "exceptions", ()):
                for pos in _COUNTER_POS.get(e.category, ()):
                    max_r.append(i)
                    max_c.append(pos)
                    max_w.append(1.0 - float(e.factor))
        for d in p.detections or ():
            pos = _DETECTOR_POS.get(str(getattr(d, "kind", "")))
            if pos is not None:
                set_r.append(i)
                set_c.append(pos)
        text = p.normalised
        if _RUN5.search(text):
            for pos, rx in ((_POS_LONG_DIGITS, _LONG_DIGITS), (_POS_HANDLE, _HANDLE)):
                if rx.search(text):
                    set_r.append(i)
                    set_c.append(pos)
        if _LINK_NEEDS.search(text) and _LINK.search(text):
            set_r.append(i)
            set_c.append(_POS_LINK)
        if _EMOJI.search(p.raw):
            set_r.append(i)
            set_c.append(_POS_EMOJI)
    if add_r:
        np.add.at(v, (np.array(add_r), np.array(add_c)), np.array(add_w, dtype=np.float32))
    if max_r:
        np.maximum.at(v, (np.array(max_r), np.array(max_c)), np.array(max_w, dtype=np.float32))
    if set_r:
        v[np.array(set_r), np.array(set_c)] = 1.0
    np.minimum(v, 1.5, out=v)
    return v


# --- the extractor -------------------------------------------------------------------------------


class RuleSide:
    """The rule engineer's normaliser, lexicon and detectors, used when they are importable.

    Built lazily and tolerant of their absence so that the model side can be trained and tested
    on its own; `available` says what was used, and the model records it.
    """

    def __init__(self, lexicon=None, use_detectors: bool = True):
        self._lexicon = lexicon
        self._use_detectors = use_detectors
        self._normalise = None
        self._detect = None
        self._loaded = False

    def _load(self):
        if self._loaded:
            return
        self._loaded = True
        try:
            from nlp.normalise import normalise

            self._normalise = normalise
        except ImportError:
            self._normalise = None
        if self._lexicon is None:
            try:
                from nlp.lexicon import Lexicon

                self._lexicon = Lexicon.load()
            except (ImportError, FileNotFoundError):
                self._lexicon = None
        if self._use_detectors:
            try:
                from nlp import detectors

                self._detect = getattr(detectors, "detect", None)
            except ImportError:
                self._detect = None

    @property
    def available(self) -> dict[str, bool]:
        self._load()
        return {"normaliser": self._normalise is not None, "lexicon": self._lexicon is not None,
                "detectors": self._detect is not None}

    def prepare(self, texts: Iterable[str]) -> list[Prepared]:
        self._load()
        out = []
        # the fold words the Analyzer passes to the normaliser at serving time: training must see
        # the same normalised text (tests/nlp/test_train_serve_parity.py holds the two equal)
        fold = self._lexicon.fold_terms if self._lexicon is not None else frozenset()
        for raw in texts:
            raw = raw if isinstance(raw, str) else str(raw)
            if self._normalise is not None:
                norm = self._normalise(raw, fold).text
            else:
                norm = raw
            match = self._lexicon.scan(norm) if self._lexicon is not None else None
            dets = ()
            if self._detect is not None:
                try:
                    # on the normalised text, as the Analyzer does: train and serve must agree
                    dets = tuple(self._detect(norm))
                except Exception:  # a detector bug must cost a feature, not the batch
                    dets = ()
            out.append(Prepared(raw, norm, match, dets))
        return out


def as_prepared(batch: Sequence[Any], rules: RuleSide) -> list[Prepared]:
    """Accept raw strings, `Prepared`, or any object with `.normalised` (the Analyzer's own work)."""
    prepared: list[Prepared | None] = []
    raws: list[int] = []
    for i, b in enumerate(batch):
        if type(b) is Prepared:
            prepared.append(b)
            continue
        norm = getattr(b, "normalised", None) if not isinstance(b, str) else None
        text = getattr(b, "text", None)
        if type(norm) is str and type(text) is str:
            # the Analyzer's ModelInput: everything is already what the model reads
            dets = getattr(b, "detections", ())
            prepared.append(Prepared(text, norm, getattr(b, "lexicon", None) or getattr(b, "match", None),
                                     dets if type(dets) is tuple else tuple(dets or ())))
        elif isinstance(b, Prepared):
            prepared.append(b)
        elif isinstance(b, str) or not hasattr(b, "normalised"):
            prepared.append(None)
            raws.append(i)
        else:
            norm = getattr(b, "normalised")
            norm = getattr(norm, "text", norm)
            prepared.append(Prepared(
                raw=str(getattr(b, "text", getattr(b, "raw", norm))),
                normalised=str(norm),
                lexicon=getattr(b, "lexicon", None) or getattr(b, "match", None),
                detections=tuple(getattr(b, "detections", ()) or ()),
            ))
    if raws:
        for i, p in zip(raws, rules.prepare([batch[i] if isinstance(batch[i], str) else str(batch[i]) for i in raws])):
            prepared[i] = p
    return prepared  # type: ignore[return-value]


def model_text(p: Prepared) -> str:
    """The part of the normalised text the model reads: bounded, lower-cased, and with lone
    surrogates (binary garbage) replaced, since the Rust segmenter only takes valid UTF-8."""
    text = p.normalised[:MAX_MODEL_CHARS].lower()
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    return text


# every code point str.isspace() holds true for lies below U+3001 (a test checks all of Unicode)
_SPACE_CODES = np.array([c for c in range(0x3001) if chr(c).isspace()], dtype=np.uint64)


class FeatureBatch:
    """The model texts of one transformed batch and, when the batch was cut as given, its tokens
    with their document rows and hash columns (for naming features without cutting again)."""

    __slots__ = ("texts", "_words", "_bounds", "_named")

    def __init__(self, texts: list[str], words):
        self.texts = texts
        self._words = words
        self._bounds = None
        self._named = None

    def word_names(self, row: int, text: str, n_word: int, wanted: Iterable[int]) -> dict[int, str]:
        """Column (in the word block) -> the first word of `segment(text)` hashed there, for the
        wanted columns that are among the text's words."""
        out: dict[int, str] = {}
        if self._words is None:
            words = segment(text)
            cols = _word_hashes(words, n_word).tolist()
            for c in wanted:
                if c in cols:
                    out[c] = words[cols.index(c)]
            return out
        tokens, doc, cols, keep, first = self._words
        if self._named is None:
            # the tokens `segment` keeps: not a separator or space (keep), and not whitespace;
            # a whitespace token starts with a space character, so only those are checked
            named = keep.copy()
            for i in np.flatnonzero(keep & np.isin(first, _SPACE_CODES)).tolist():
                if tokens[i].isspace():
                    named[i] = False
            self._named = named
            self._bounds = np.searchsorted(doc, np.arange(len(self.texts) + 1)).tolist()
        lo, hi = self._bounds[row], self._bounds[row + 1]
        mine = cols[lo:hi].tolist()
        named = self._named
        for c in wanted:
            start = 0
            while True:
                try:
                    i = mine.index(c, start)
                except ValueError:
                    break
                if named[lo + i]:
                    out[c] = tokens[lo + i]
                    break
                start = i + 1
        return out


class FeatureExtractor:
    def __init__(self, config: FeatureConfig):
        self.config = config

    @property
    def n_features(self) -> int:
        return self.config.n_char + self.config.n_word + len(DENSE_NAMES)

    def transform(self, prepared: Sequence[Prepared]) -> sp.csr_matrix:
        return self.transform_batch(prepared)[0]

    def transform_batch(self, prepared: Sequence[Prepared]) -> tuple[sp.csr_matrix, "FeatureBatch"]:
        """The feature matrix, and what `names_batch` needs to name its columns later without
        cutting the texts into words again."""
        cfg = self.config
        texts = [model_text(p) for p in prepared]
        blocks = [char_ngram_matrix(texts, cfg.char_bits, cfg.char_max_n)]
        words = None
        if cfg.n_word:
            m, words = _word_matrix(texts, cfg.n_word)
            blocks.append(m)
        dense = dense_matrix(prepared)
        blocks.append(sp.csr_matrix(dense * np.float32(cfg.dense_scale), dtype=np.float32))
        return sp.hstack(blocks, format="csr", dtype=np.float32), FeatureBatch(texts, words)

    def names_batch(self, items: Sequence[tuple["FeatureBatch", int, Iterable[int]]]) -> list[dict[int, str]]:
        """`names(p, columns)` for many items at once: (batch, row in it, columns) each.

        Character n-grams of all the items are hashed in one go and the first occurrence of each
        wanted column is picked with one sort (the n-gram `names` would meet first: shortest n,
        then leftmost); words come from the batch's own segmentation. Same names as `names`.
        """
        cfg = self.config
        out: list[dict[int, str]] = [{} for _ in items]
        wanted = [sorted({int(c) for c in cols}) for _, _, cols in items]
        texts = [b.texts[r] for b, r, _ in items]
        char_items = [i for i, w in enumerate(wanted) if texts[i] and w and w[0] < cfg.n_char]
        if char_items:
            doc, start, n, col = _char_ngram_columns([texts[i] for i in char_items], cfg.char_bits, cfg.char_max_n)
            want_keys = np.array([k * cfg.n_char + c for k, i in enumerate(char_items) for c in wanted[i] if c < cfg.n_char],
                                 dtype=np.int64)
            # a column filter first (a table over the columns), then the exact (doc, column) test
            # on the few n-grams that pass: np.isin over every n-gram of the batch sorts them all
            table = np.zeros(cfg.n_char, dtype=bool)
            table[want_keys % cfg.n_char] = True
            cand = np.flatnonzero(table[col])
            keys = doc * cfg.n_char + col
            hit = cand[np.isin(keys[cand], want_keys)]
            if len(hit):
                order = hit[np.lexsort((start[hit], n[hit], keys[hit]))]
                k = keys[order]
                firsts = order[np.concatenate(([True], k[1:] != k[:-1]))]
                for d, s_, n_, c in zip(doc[firsts].tolist(), start[firsts].tolist(), n[firsts].tolist(),
                                        col[firsts].tolist()):
                    text = texts[char_items[d]]
                    out[char_items[d]][c] = f"char:{text[s_:s_ + n_]}"
        base = cfg.n_char + cfg.n_word
        for i, (batch, row, _) in enumerate(items):
            names = out[i]
            word_cols = [c for c in wanted[i] if cfg.n_char <= c < base]
            if cfg.n_word and word_cols:
                found = batch.word_names(row, texts[i], cfg.n_word, [c - cfg.n_char for c in word_cols])
                for c, w in found.items():
                    names.setdefault(c + cfg.n_char, f"word:{w}")
            for c in wanted[i]:
                if base <= c < base + len(DENSE_NAMES):
                    names[c] = DENSE_NAMES[c - base]
        return out

    def names(self, p: Prepared, columns: Iterable[int] | None = None) -> dict[int, str]:
        """Column -> readable name for features active in one text (for explain). With `columns`,
        only those are named, which keeps explaining a batch cheap."""
        cfg = self.config
        text = model_text(p)
        wanted = None if columns is None else set(int(c) for c in columns)
        wanted_arr = None if wanted is None else np.fromiter(wanted, dtype=np.int64, count=len(wanted))
        names: dict[int, str] = {}
        if text and (wanted is None or any(c < cfg.n_char for c in wanted)):
            codes = _codes(text)
            h = np.zeros(len(codes), dtype=np.uint64)
            mask = np.uint64(cfg.n_char - 1)
            for n in range(1, min(cfg.char_max_n, len(text)) + 1):
                shifted = np.zeros(len(codes), dtype=np.uint64)
                shifted[: len(codes) - n + 1] = codes[n - 1:]
                h = h * _MUL + shifted + np.uint64(1)
                idx = (_mix(h[: len(codes) - n + 1] ^ _ORDER_SALT[n]) & mask).astype(np.int64)
                starts = np.arange(len(idx)) if wanted is None else np.flatnonzero((idx[:, None] == wanted_arr[None, :]).any(axis=1))
                for start in starts.tolist():
                    names.setdefault(int(idx[start]), f"char:{text[start:start + n]}")
        if cfg.n_word and (wanted is None or any(cfg.n_char <= c < cfg.n_char + cfg.n_word for c in wanted)):
            words = segment(text)
            for w, col in zip(words, (_word_hashes(words, cfg.n_word) + cfg.n_char).tolist()):
                if (wanted is None or col in wanted) and col not in names:
                    names[col] = f"word:{w}"
        base = cfg.n_char + cfg.n_word
        for j, name in enumerate(DENSE_NAMES):
            if wanted is None or base + j in wanted:
                names[base + j] = name
        return names
