"""Matching proposed lexicon terms, before they go into a lexicon file (`patrol lexicon backtest`).

`TermMatcher(terms, lexicon)` normalises each proposed term as the Analyzer normalises text (same
normaliser, same fold words: 新貨 reads 新货) and finds them in one Aho-Corasick automaton, by the
production lexicon's rules: ASCII case-folded, ASCII terms not inside English words, no hit inside
one of `lexicon`'s benign words (冰 in 冰箱), `A…B` co-occurrences allowed. Unlike production, the
proposed terms are matched overlapping, so "新货" and "新货到" are each found on their own.
"""
from __future__ import annotations

import ahocorasick_rs

from nlp.lexicon import Lexicon, lower_ascii, word_bounded
from nlp.normalise import normalise


class TermError(ValueError):
    """A proposed term that cannot be matched; says which and why."""


class TermMatcher:
    """The proposed terms, normalised, in one overlapping automaton (plain terms) plus a small
    in-memory Lexicon for `A…B` co-occurrences; benign words shield what they contain.

    `normalised[i]` is what term i is matched as; `fold_terms` are the fold words to normalise
    the scanned texts with (the lexicon's, plus the proposed terms, as they will fold once they
    are in a lexicon file)."""

    def __init__(self, terms: list[str], lexicon: Lexicon):
        self.normalised: list[str] = []
        plain: dict[str, list[int]] = {}
        pairs: dict[str, str] = {}
        for i, term in enumerate(terms):
            if not isinstance(term, str) or not term.strip():
                raise TermError(f"term #{i + 1} is empty")
            if "…" in term:
                sides = ["|".join(lower_ascii(normalise(w.strip()).text) for w in side.split("|"))
                         for side in term.split("…")]
                norm = "…".join(sides)
                pairs[norm] = f"#{i}"
            else:
                norm = lower_ascii(normalise(term.strip(), lexicon.fold_terms).text)
                norm = "".join(norm.split())
                if not norm:
                    raise TermError(f"term {term!r} normalises to nothing")
                plain.setdefault(norm, []).append(i)
            self.normalised.append(norm)
        try:
            self._pairs = Lexicon.from_terms(pairs, benign=lexicon.benign) if pairs else None
        except ValueError as exc:
            raise TermError(str(exc)) from None
        self._plain = plain
        self._benign = lexicon.benign
        patterns = list(plain) + [b for b in lexicon.benign if b not in plain]
        self._patterns = patterns
        self._ac = ahocorasick_rs.AhoCorasick(patterns) if plain else None
        self.fold_terms = lexicon.fold_terms | frozenset(t for t in plain if len(t) >= 2)

    def find(self, text: str) -> dict[int, tuple[int, int]]:
        """term index -> the first span (offsets into `text`, a normalised text) where it matched."""
        low = lower_ascii(text)
        out: dict[int, tuple[int, int]] = {}
        if self._ac is not None:
            spans = []
            shields = []
            for idx, start, end in self._ac.find_matches_as_indexes(low, overlapping=True):
                pat = self._patterns[idx]
                if pat in self._plain:
                    if word_bounded(low, pat, start, end):
                        spans.append((pat, start, end))
                if pat in self._benign:
                    shields.append((start, end))
            for pat, start, end in spans:
                if any(bs <= start and end <= be and be - bs > end - start for bs, be in shields):
                    continue
                for i in self._plain[pat]:
                    out.setdefault(i, (start, end))
        if self._pairs is not None:
            for h in self._pairs.scan(text).hits:
                out.setdefault(int(h.category[1:]), (h.start, h.end))
        return out
