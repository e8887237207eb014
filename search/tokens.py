"""Words for the index: the one segmentation shared by indexed text, query words and highlights.

Chinese has no spaces, so FTS5's unicode61 tokenizer would see a whole sentence as one token. We
segment with rjieba ourselves, fold case and width, and hand the index space-separated tokens made
only of letters and digits, which unicode61 (and Elasticsearch's whitespace analyzer) keep exactly
as they are. Both sides of every comparison go through `Segmenter`, so a query word and the text it
should find are always cut the same way.
"""
from __future__ import annotations

import re
import unicodedata

# Runs of letters and digits (Unicode categories L* and N*): exactly what unicode61 treats as
# token characters apart from private-use code points, which we drop. Punctuation and emoji are
# separators on both sides.
_WORD = re.compile(r"[^\W_]+")


class _FoldTable(dict):
    """Per-character NFKC + lowercase, memoised so `str.translate` runs at C speed once warm.

    Folding character by character (not the string as a whole) keeps a one-to-many mapping from
    each original character to its folded form, which highlighting needs to map tokens back onto
    the original text. Full-width Ａ becomes a, ＂…＂ becomes ..., and so on.
    """

    def __missing__(self, codepoint: int) -> str:
        folded = unicodedata.normalize("NFKC", chr(codepoint)).lower()
        self[codepoint] = folded
        return folded


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Case- and width-folded text (NFKC per character, then lowercase)."""
    return text.translate(_FOLD)


class Segmenter:
    """Cuts text into index tokens. Picklable: the rjieba tokenizer is built lazily per process,
    because rjieba objects cannot be pickled and take ~0.1 s to load."""

    def __init__(self) -> None:
        self._jieba = None

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self._jieba = None

    @property
    def _cutter(self):
        if self._jieba is None:
            import rjieba

            self._jieba = rjieba.Jieba()
        return self._jieba

    def tokens(self, text: str) -> list[str]:
        """The index tokens of `text`, in order."""
        if not text:
            return []
        # Joining the pieces with spaces keeps every token inside one piece; one findall in C
        # then drops punctuation and splits mixed pieces like "e-mail" the way unicode61 would.
        return _WORD.findall(" ".join(self._cutter.cut(fold(text))))

    def token_text(self, text: str) -> str:
        """Tokens joined by single spaces: what goes into an FTS5 column or an ES text field."""
        return " ".join(self.tokens(text))

    def spans(self, text: str) -> list[tuple[str, int, int]]:
        """(token, start, end) with start/end character offsets into the ORIGINAL `text`."""
        if not text:
            return []
        folded_parts: list[str] = []
        origin: list[int] = []  # folded offset -> original offset
        for i, ch in enumerate(text):
            part = _FOLD[ord(ch)]
            folded_parts.append(part)
            origin.extend([i] * len(part))
        folded = "".join(folded_parts)
        origin.append(len(text))
        out: list[tuple[str, int, int]] = []
        for piece, start, _end in self._cutter.tokenize(folded):
            for m in _WORD.finditer(piece):
                fs, fe = start + m.start(), start + m.end()
                # The end maps to the character after the last folded char's origin, so a
                # character that folded into several (… -> ...) is covered whole.
                out.append((m.group(), origin[fs], origin[fe - 1] + 1))
        return out


DEFAULT_SEGMENTER = Segmenter()
