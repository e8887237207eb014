"""The normalised text of a post beside its original: what is indexed, and how a place in it maps
back to the original for highlighting.

The analyzer's normaliser undoes evasive spellings (菠.菜 → 博彩, 薇信 → 微信, ➕V → 加微信) over the
combined text `title + "\\n" + text`. Both indexes search that text as well as the original, so an
officer's real word finds the evasive spelling. search/ may not import the analyzer, so the
ingestor hands over the normalised text and a compact map of the changed regions
(IndexedPost.normalised_spans: (norm_start, norm_end, orig_start, orig_end), sorted,
non-overlapping, everything between them unchanged).
"""
from __future__ import annotations

from typing import Sequence

from search.tokens import fold

Spans = Sequence[tuple[int, int, int, int]]


def combined(title: str, text: str) -> str:
    """The string the normaliser saw, the same as patrol.posts.analysed_text (which search/ may not
    import); the offsets of normalised_spans point into it."""
    return f"{title}\n{text}" if title else text


def searchable(title: str, text: str, normalised: str) -> str:
    """The normalised text to index, or "" when it holds no token the original does not: width,
    case and punctuation changes fold away anyway, and indexing an identical token stream again
    would only count every word of the post twice."""
    if not normalised or fold(normalised) == fold(combined(title, text)):
        return ""
    return normalised


def check_spans(post_id: str, original: str, normalised: str, spans: Spans) -> None:
    """Refuses a map that does not fit the texts: it would mark the wrong words of the original."""
    if spans and not normalised:
        raise ValueError(f"post {post_id!r}: normalised_spans given without a normalised text")
    norm_at = orig_at = 0
    for i, span in enumerate(spans):
        if len(span) != 4 or not all(isinstance(x, int) for x in span):
            raise ValueError(f"post {post_id!r}: normalised_spans[{i}] must be 4 integers, got {span!r}")
        ns, ne, os_, oe = span
        if not (norm_at <= ns <= ne and orig_at <= os_ <= oe):
            raise ValueError(f"post {post_id!r}: normalised_spans[{i}] {span!r} is out of order, "
                             f"overlaps the one before, or ends before it starts")
        if ns - norm_at != os_ - orig_at:
            raise ValueError(f"post {post_id!r}: normalised_spans[{i}] {span!r}: the unchanged text before it "
                             f"is {ns - norm_at} characters long in the normalised text but "
                             f"{os_ - orig_at} in the original")
        norm_at, orig_at = ne, oe
    if spans and (len(normalised) - norm_at != len(original) - orig_at):
        raise ValueError(f"post {post_id!r}: normalised_spans leave {len(normalised) - norm_at} characters of the "
                         f"normalised text after the last change but {len(original) - orig_at} of the original")


def to_original(spans: Spans, start: int, end: int) -> tuple[int, int]:
    """The original range a normalised range [start, end) came from. A range touching part of a
    change widens to the change's whole original (微信 made from 薇❤信 cannot be split back);
    characters the normaliser removed (the dot of 菠.菜) count as inside a range only when they
    lie between its first and last character."""
    return _map(spans, start, after=True), _map(spans, end, after=False)


def _map(spans: Spans, pos: int, after: bool) -> int:
    """A start (`after`: the position begins a range) or an end of a range, in the original.
    Changes wholly before `pos` shift it by their change in length (everything between changes is
    unchanged, so the last one's shift is the total); inside a change, its original edge answers.
    A change ending exactly at `pos`, an empty one (removed characters) included, lies before a
    start, but not before an end, so removed characters just past a range stay outside it."""
    shift = 0
    for ns, ne, os_, oe in spans:  # a post has a handful of changes: a scan beats a bisect
        if ne < pos or (after and ne == pos):
            shift = oe - ne
        elif after and ns <= pos:
            return os_
        elif not after and ns < pos:
            return oe
        else:
            break
    return pos + shift


def split(title: str, start: int, end: int) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """A range of the combined original as (range in the title, range in the text), either None."""
    if not title:
        return None, (start, end) if end > start else None
    body = len(title) + 1  # the text starts after the title and its "\n"
    in_title = (start, min(end, len(title))) if start < len(title) and end > start else None
    in_text = (max(start, body) - body, end - body) if end > max(start, body) else None
    return in_title, in_text
