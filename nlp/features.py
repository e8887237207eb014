"""The model's features: hashed character n-grams (`char_ngrams`) and words (`word_features`) of
the normalised text, plus a small dense block of rule signals (`rule_signals`). This module puts
them together (`FeatureExtractor`) and prepares text for training exactly as the Analyzer does for
serving (`RuleSide`).

Speed matters more than elegance here: the whole Analyzer has to beat `jieba.lcut` 3.5 times, so
every block is computed for the whole batch at once in numpy.

Everything here is stateless: an extractor is rebuilt from its `FeatureConfig` when a model
loads, so nothing but numbers and strings goes into the saved artifact.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import scipy.sparse as sp

# the three blocks, each in its module; their names stay importable from here
from nlp.char_ngrams import (_MUL, _ORDER_SALT, _char_ngram_columns, _codes, _count_matrix,  # noqa: F401
                             char_ngram_matrix, ngram_index, _mix)
from nlp.rule_signals import DENSE_NAMES, Prepared, dense_matrix, dense_row  # noqa: F401
from nlp.word_features import _word_hashes, _word_matrix, segment, segment_batch, word_index, word_matrix  # noqa: F401

# Harmful posts are short; past this many characters more text only costs time, and a 1 MB post
# must not cost 1 MB of n-grams. Lexicons and detectors still see the whole text (Analyzer).
MAX_MODEL_CHARS = 4000



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
