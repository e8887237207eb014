"""Try proposed lexicon terms on the posts already stored, before they go into a lexicon file.

`backtest(terms, store, analyzer)` pages through every stored post, normalises it exactly as the
Analyzer does (same normaliser, same fold words, so "菠.菜" reads 菠菜) and matches the proposed
terms, normalised the same way, with one Aho-Corasick automaton. Each term gets a row: how many
posts it hits out of how many were scanned, and a few snippets of the ORIGINAL text with the match
marked 【like this】, so an administrator sees the false positives before the officers do.

Matching follows the production lexicon: ASCII case-folded, ASCII terms not inside English words,
no hit inside a benign word (冰 in 冰箱), `A…B` co-occurrences allowed. Unlike production, the
proposed terms are matched overlapping, so "新货" and "新货到" are each counted on their own.
Read-only: nothing in the store changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import ahocorasick_rs
from sqlalchemy import select

from nlp.lexicon import Lexicon, lower_ascii, word_bounded
from nlp.normalise import normalise
from patrol.posts import analysed_text

PAGE_SIZE = 500
CONTEXT = 20  # characters of the original shown on each side of a match
MARK = ("【", "】")


@dataclass(frozen=True)
class BacktestRow:
    term: str  # as proposed
    normalised: str  # what was matched
    hits: int  # posts with at least one match
    scanned: int  # posts looked at
    samples: tuple[tuple[str, str], ...]  # (post id, snippet of the original with the match marked)


class BacktestError(ValueError):
    """A proposed term that cannot be tried; says which and why."""


def backtest(terms: Iterable[str], store, analyzer=None, sample: int = 5,
             page_size: int = PAGE_SIZE) -> list[BacktestRow]:
    """One row per distinct proposed term, in the order given. `analyzer` supplies the lexicon
    whose fold and benign words normalisation and matching use (the bundled ones when None)."""
    terms = list(dict.fromkeys(terms))
    if not terms:
        raise BacktestError("no terms to try")
    if sample < 0:
        raise BacktestError(f"sample must be 0 or more, got {sample}")
    lexicon = analyzer.lexicon if analyzer is not None else Lexicon.load()
    matcher = _Matcher(terms, lexicon)
    hits = [0] * len(terms)
    samples: list[list[tuple[str, str]]] = [[] for _ in terms]
    scanned = 0
    for post_id, text in iter_post_texts(store, page_size):
        scanned += 1
        norm = normalise(text, matcher.fold_terms)
        found = matcher.find(norm.text)
        for i, (start, end) in found.items():
            hits[i] += 1
            if len(samples[i]) < sample:
                o_start, o_end = norm.to_original(start, end)
                samples[i].append((post_id, snippet(text, o_start, o_end)))
    return [BacktestRow(t, matcher.normalised[i], hits[i], scanned, tuple(samples[i])) for i, t in enumerate(terms)]


def iter_post_texts(store, page_size: int = PAGE_SIZE) -> Iterator[tuple[str, str]]:
    """(post id, the text the Analyzer saw) for every stored post, in id order, one page at a time.

    Keyset paging on the primary key: each page is one short read, so a long backtest neither
    holds a transaction open against the crawlers' writes nor loads every post into memory.
    Read-only SQLAlchemy Core on the store's engine, because the Store has no method that
    iterates posts yet.
    """
    from patrol.store import metadata

    posts = metadata.tables["posts"]
    last = None
    while True:
        q = select(posts.c.id, posts.c.title, posts.c.text).order_by(posts.c.id).limit(page_size)
        if last is not None:
            q = q.where(posts.c.id > last)
        with store.engine.connect() as conn:
            rows = conn.execute(q).all()
        for row in rows:
            yield row.id, analysed_text(row.title or "", row.text or "")
        if len(rows) < page_size:
            return
        last = rows[-1].id


def snippet(text: str, start: int, end: int, context: int = CONTEXT) -> str:
    """`text[start:end]` marked, with `context` characters around it, on one line."""
    left = max(0, start - context)
    right = min(len(text), end + context)
    body = f"{text[left:start]}{MARK[0]}{text[start:end]}{MARK[1]}{text[end:right]}"
    body = " ".join(body.split())
    return ("…" if left > 0 else "") + body + ("…" if right < len(text) else "")


class _Matcher:
    """The proposed terms, normalised, in one overlapping automaton (plain terms) plus a small
    in-memory Lexicon for `A…B` co-occurrences; benign words shield what they contain."""

    def __init__(self, terms: list[str], lexicon: Lexicon):
        self.normalised: list[str] = []
        plain: dict[str, list[int]] = {}
        pairs: dict[str, str] = {}
        for i, term in enumerate(terms):
            if not isinstance(term, str) or not term.strip():
                raise BacktestError(f"term #{i + 1} is empty")
            if "…" in term:
                sides = ["|".join(lower_ascii(normalise(w.strip()).text) for w in side.split("|"))
                         for side in term.split("…")]
                norm = "…".join(sides)
                pairs[norm] = f"#{i}"
            else:
                norm = lower_ascii(normalise(term.strip(), lexicon.fold_terms).text)
                norm = "".join(norm.split())
                if not norm:
                    raise BacktestError(f"term {term!r} normalises to nothing")
                plain.setdefault(norm, []).append(i)
            self.normalised.append(norm)
        try:
            self._pairs = Lexicon.from_terms(pairs, benign=lexicon.benign) if pairs else None
        except ValueError as exc:
            raise BacktestError(str(exc)) from None
        self._plain = plain
        self._benign = lexicon.benign
        patterns = list(plain) + [b for b in lexicon.benign if b not in plain]
        self._patterns = patterns
        self._ac = ahocorasick_rs.AhoCorasick(patterns) if plain else None
        # the proposed terms fold separators too, as they will once they are in a lexicon file
        self.fold_terms = lexicon.fold_terms | frozenset(t for t in plain if len(t) >= 2)

    def find(self, text: str) -> dict[int, tuple[int, int]]:
        """term index -> the first span (normalised offsets) where it matched."""
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
