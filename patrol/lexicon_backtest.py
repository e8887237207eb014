"""Try proposed lexicon terms on the posts already stored, before they go into a lexicon file.

`backtest(terms, store, analyzer)` pages through every stored post, normalises it exactly as the
Analyzer does (same normaliser, same fold words, so "菠.菜" reads 菠菜) and matches the proposed
terms, normalised the same way, with one Aho-Corasick automaton. Each term gets a row: how many
posts it hits out of how many were scanned, and a few snippets of the ORIGINAL text with the match
marked 【like this】, so an administrator sees the false positives before the officers do.

The matching itself is `nlp.term_match.TermMatcher` (the production lexicon's rules, except that
proposed terms are matched overlapping, so "新货" and "新货到" are each counted on their own).
Read-only: nothing in the store changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from nlp.lexicon import Lexicon
from nlp.normalise import normalise
from nlp.term_match import TermError, TermMatcher
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
    try:
        matcher = TermMatcher(terms, lexicon)
    except TermError as exc:
        raise BacktestError(str(exc)) from None
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
    """(post id, the text the Analyzer saw) for every stored post, in id order, one page at a time
    (`Store.iter_posts`: keyset paging, so a long backtest neither holds a transaction open
    against the crawlers' writes nor loads every post into memory)."""
    for post in store.iter_posts(page_size):
        yield post.id, analysed_text(post.title or "", post.text or "")


def snippet(text: str, start: int, end: int, context: int = CONTEXT) -> str:
    """`text[start:end]` marked, with `context` characters around it, on one line."""
    left = max(0, start - context)
    right = min(len(text), end + context)
    body = f"{text[left:start]}{MARK[0]}{text[start:end]}{MARK[1]}{text[end:right]}"
    body = " ".join(body.split())
    return ("…" if left > 0 else "") + body + ("…" if right < len(text) else "")
