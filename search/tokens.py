"""Words for the index: the one segmentation shared by indexed text, query words and highlights.

Chinese has no spaces, so FTS5's unicode61 tokenizer would see a whole sentence as one token. We
segment with rjieba ourselves and hand the index space-separated tokens, which unicode61 (with the
`So` category added, for emoji) and Elasticsearch's whitespace analyzer keep exactly as they are.
Both sides of every comparison go through `Segmenter`, so a query word and the text it should find
are always cut the same way.

Each text gives two token streams:

- **words**: rjieba's words, with every longer word that its search-mode sub-words tile exactly
  replaced by those sub-words (今天天气 → 今天 天气, 中华人民共和国 → 中华 人民 共和国). Phrases match
  here, on consecutive words, so `天气不错` finds 今天天气不错 however rjieba cut the sentence.
- **parts**: the other search-mode sub-words of longer words, which overlap or do not tile
  (天天 in 今天天气, 哈尔滨 in 哈尔滨市, 学生 in 大学生). A single-word query also matches here;
  phrases never do, because these sub-words are not consecutive text.

rjieba's search mode stops at dictionary words of 2-3 characters, so a single character inside a
word (彩 in 博彩) is still not found on its own.
"""
from __future__ import annotations

import functools
import unicodedata
from typing import Sequence

# Marks and format characters vanish rather than split a word: 博\u200b彩 (a zero-width space
# inserted to dodge filters) reads 博彩, and ZWJ emoji sequences fall apart into their emoji.
_VANISH = {"Mn", "Me", "Cf"}
_MAX_MEMO = 200_000

# Words officers search for that rjieba's dictionary (older than these platforms and schemes)
# lacks. Without them rjieba's HMM glues an unknown word to its neighbours (加微信 is one token,
# so 微信 did not find 加微信详聊) or the dictionary splits it wrongly (微信号 → 微 信号). Only words
# missing from the dictionary are added, at a frequency that wins those splits (微信号 → 微信 号)
# without joining across real words (细微信号 stays 细微 信号). Changing the list changes the
# tokens: it needs the rebuild of search/README.md.
EXTRA_WORDS = (
    "微信 抖音 快手 陌陌 拼多多 闲鱼 公众号 小程序 主播 网红 "  # contact channels and platforms
    "网贷 套路贷 校园贷 裸贷 刷单 跑分 荐股 杀猪盘 电诈 日结 详聊 "  # fraud
    "返水 上分 下分 网赌 彩金 时时彩"  # gambling
).split()
_EXTRA_FREQ = 2000


def _is_token_char(ch: str) -> bool:
    # Letters, digits and symbols like emoji (🐧 stands for QQ in evasive posts). FTS5 is told the
    # same categories ('L* N* Co So' less private use, which never reaches it).
    return ch.isalnum() or unicodedata.category(ch) == "So"


class _FoldTable(dict):
    """Per-character NFKC + lowercase, separators as spaces; memoised so `str.translate` runs at
    C speed once warm.

    Folding character by character (not the string as a whole) keeps a one-to-many mapping from
    each original character to its folded form, which highlighting needs to map tokens back onto
    the original text. Full-width Ａ becomes a, ＂…＂ becomes spaces, and so on.
    """

    def __missing__(self, codepoint: int) -> str:
        out = []
        for ch in unicodedata.normalize("NFKC", chr(codepoint)).lower():
            if _is_token_char(ch):
                out.append(ch)
            elif unicodedata.category(ch) not in _VANISH:
                out.append(" ")
        folded = "".join(out)
        self[codepoint] = folded
        if len(folded) != 1:
            _RESIZED.add(chr(codepoint))
        return folded


_FOLD = _FoldTable()
# Characters whose folded form is not exactly one character (…, ㎏, zero-width space): only a text
# holding one of them needs an offset map between folded and original text.
_RESIZED: set[str] = set()


def fold(text: str) -> str:
    """Text as the segmenter sees it: case- and width-folded (NFKC per character, lowercase),
    every character that is not a letter, digit or symbol turned into a space."""
    return text.translate(_FOLD)


class _Expansions(dict):
    """token -> (words text, parts text) for the index; memoised so the per-token work of a post
    is one dictionary look-up at C speed."""

    def __init__(self, segmenter: "Segmenter"):
        super().__init__()
        self.segmenter = segmenter

    def __missing__(self, token: str) -> tuple[str, str]:
        tiles, parts = self.segmenter.pieces(token)
        value = (" ".join(w for w, _, _ in tiles), " ".join(w for w, _, _ in parts))
        if len(self) >= _MAX_MEMO:  # unbounded vocabularies (numbers, names) must not grow memory
            self.clear()
        self[token] = value
        return value


Span = tuple[str, int, int]


class Segmenter:
    """Cuts text into index tokens. Picklable: the rjieba tokenizer is built lazily per process,
    because rjieba objects cannot be pickled and take ~0.1 s to load."""

    def __init__(self) -> None:
        self._jieba = None
        self._expansions = _Expansions(self)
        self._pieces_cached = functools.lru_cache(maxsize=65536)(self._pieces)

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.__init__()

    @property
    def _cutter(self):
        if self._jieba is None:
            import rjieba

            jieba = rjieba.Jieba()
            for word in EXTRA_WORDS:
                if not jieba.has_word(word):
                    jieba.add_word(word, _EXTRA_FREQ, None)
            self._jieba = jieba
        return self._jieba

    # -------------------------------------------------------------- one word

    def pieces(self, token: str) -> tuple[list[Span], list[Span]]:
        """(tiles, parts) of one rjieba word, offsets relative to it. tiles: the fewest search-mode
        sub-words that cover the word end to end in order, or [word] when none do; parts: its
        other sub-words. Only words of 3+ characters outside ASCII have sub-words."""
        return self._pieces_cached(token)

    def _pieces(self, token: str) -> tuple[list[Span], list[Span]]:
        n = len(token)
        if n < 3 or token.isascii():
            return [(token, 0, n)], []
        subs = sorted({(s, e, w) for w, s, e in self._cutter.tokenize(token, "search") if (s, e) != (0, n)})
        # Fewest pieces from 0 to n; `subs` is sorted by start, so each start is final when reached.
        best: dict[int, tuple[tuple[int, int, str], ...]] = {0: ()}
        for s, e, w in subs:
            if s in best and (e not in best or len(best[s]) + 1 < len(best[e])):
                best[e] = best[s] + ((s, e, w),)
        tiling = best.get(n)
        chosen = set(tiling or ())
        tiles = [(w, s, e) for s, e, w in tiling] if tiling else [(token, 0, n)]
        parts = [(w, s, e) for s, e, w in subs if (s, e, w) not in chosen]
        return tiles, parts

    # -------------------------------------------------------------- whole texts

    def _coarse(self, folded: str) -> list[str]:
        return " ".join(self._cutter.cut(folded)).split()

    def tokens(self, text: str) -> list[str]:
        """The word stream of `text`, in order: what a query word is cut into and phrases match."""
        if not text:
            return []
        return " ".join(self._expansions[t][0] for t in self._coarse(fold(text))).split()

    def index_texts(self, texts: Sequence[str]) -> list[tuple[str, str]]:
        """(words, parts) column texts for each of `texts`, from ONE rjieba call over the batch.

        rjieba's per-call cost is about half its work on a 100-character post, and it cuts
        lines independently (a newline is always a boundary; folding turned every newline inside
        a text into a space), so cutting the joined batch gives each text's own tokens."""
        if not texts:
            return []
        lines = " ".join(self._cutter.cut("\n".join(map(fold, texts)))).split("\n")
        if len(lines) != len(texts):  # cannot happen while fold() maps "\n" to " "; never misalign
            raise AssertionError(f"segmenting {len(texts)} texts gave {len(lines)} lines")
        lookup = self._expansions.__getitem__
        out = []
        for line in lines:
            coarse = line.split()
            if not coarse:
                out.append(("", ""))
                continue
            words, parts = zip(*map(lookup, coarse))
            out.append((" ".join(words), " ".join(filter(None, parts))))
        return out

    def index_text(self, text: str) -> tuple[str, str]:
        return self.index_texts([text])[0]

    def spans(self, text: str) -> tuple[list[Span], list[Span]]:
        """(words, parts) of `text` as (token, start, end), offsets into the ORIGINAL text."""
        if not text:
            return [], []
        folded = fold(text)  # also fills the fold table for every character of `text`
        if _RESIZED.isdisjoint(text):
            def original(fs: int, fe: int) -> tuple[int, int]:
                return fs, fe
        else:
            origin: list[int] = []  # folded offset -> original offset
            for i, ch in enumerate(text):
                origin.extend([i] * len(_FOLD[ord(ch)]))
            origin.append(len(text))

            def original(fs: int, fe: int) -> tuple[int, int]:
                # The end maps to the character after the last folded char's origin, so a
                # character that folded into several (㎏ → kg) is covered whole.
                return origin[fs], origin[fe - 1] + 1

        words: list[Span] = []
        parts: list[Span] = []
        for piece, start, _end in self._cutter.tokenize(folded):
            if piece.isspace():
                continue
            tiles, subs = self.pieces(piece)
            words.extend((w, *original(start + s, start + e)) for w, s, e in tiles)
            parts.extend((w, *original(start + s, start + e)) for w, s, e in subs)
        return words, parts


DEFAULT_SEGMENTER = Segmenter()
