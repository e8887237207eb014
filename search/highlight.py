"""Highlights: fragments of the ORIGINAL title and text with the matched words in <mark>…</mark>.

Both indexes store pre-segmented tokens, whose offsets mean nothing in the text an officer reads,
so neither backend's own highlighter can be used. Instead the page's hits are re-segmented here
with offsets into the original text, and the query's phrases are found the same way the index
found them: a phrase on consecutive words, a single word among the words or the sub-word parts
(天气 inside 今天天气). Everything outside the marks is HTML-escaped.

A post can also match through its normalised text (博彩 finds 菠.菜). Those places are found in the
normalised text the same way and mapped back through IndexedPost.normalised_spans onto the original
words they came from, which are marked: the officer reads what the post really says, with the
evasive spelling highlighted. `Highlights.matched_normalised` tells the console that some mark is
there only through normalisation. Without a map (spans unknown), nothing can be marked for such a
match; the post's opening is shown and matched_normalised is still set.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Sequence

from search.normalised import Spans, searchable, split, to_original
from search.tokens import Segmenter, fold

FRAGMENT_CHARS = 80
CONTEXT_BEFORE = 20
MAX_TEXT_FRAGMENTS = 2


def marked_spans(segmenter: Segmenter, text: str, phrases: Sequence[tuple[str, ...]]) -> list[tuple[int, int]]:
    """Character ranges of `text` covered by an occurrence of any phrase; adjacent ranges merged."""
    if not text or not phrases:
        return []
    # Every token is a substring of the folded text, so a phrase with a token the text does not
    # contain cannot match there: skip segmenting it (most titles, at ~3 ms a page of 20 hits).
    folded = fold(text)
    phrases = [p for p in phrases if all(t in folded for t in p)]
    if not phrases:
        return []
    words, parts = segmenter.spans(text)
    tokens = [t for t, _, _ in words]
    single = {p[0] for p in phrases if len(p) == 1}
    marked: list[tuple[int, int]] = [(s, e) for t, s, e in parts if t in single]
    for phrase in phrases:
        k = len(phrase)
        if not k:
            continue
        for i in range(len(tokens) - k + 1):
            if tokens[i] == phrase[0] and tuple(tokens[i:i + k]) == phrase:
                marked.extend((s, e) for _, s, e in words[i:i + k])
    return _merge(text, marked)


def _merge(text: str, marked: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(marked):
        # Overlapping marks, and marks separated only by nothing or whitespace, read as one
        # highlighted stretch.
        if merged and (start <= merged[-1][1] or not text[merged[-1][1]:start].strip()):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def render(text: str, spans: Sequence[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """text[start:end], escaped, with the spans inside it marked."""
    end = len(text) if end is None else end
    out: list[str] = []
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape(text[pos:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(escape(text[pos:end]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + "".join(out) + suffix


def fragments(text: str, spans: Sequence[tuple[int, int]], limit: int = MAX_TEXT_FRAGMENTS) -> list[str]:
    """Up to `limit` windows of about FRAGMENT_CHARS characters around the marked spans."""
    out: list[str] = []
    i = 0
    while i < len(spans) and len(out) < limit:
        start = max(0, spans[i][0] - CONTEXT_BEFORE)
        end = min(len(text), max(start + FRAGMENT_CHARS, spans[i][1]))
        start = max(0, min(start, end - FRAGMENT_CHARS))  # near the end, use the window's full width
        while i < len(spans) and spans[i][0] < end:  # later marks in this window ride along
            i += 1
        out.append(render(text, spans, start, end))
    return out


@dataclass(frozen=True)
class Highlights:
    fragments: tuple[str, ...] = ()
    matched_normalised: bool = False


def highlight(segmenter: Segmenter, title: str, text: str, phrases: Sequence[tuple[str, ...]], *,
              normalised: str = "", spans: Spans = ()) -> Highlights:
    """The title (when it matched) then text fragments; the opening of the text when nothing matched,
    so a filter-only search still shows what each post says. Places where only the normalised text
    matched are marked on the original words they came from."""
    title_spans = marked_spans(segmenter, title, phrases)
    text_spans = marked_spans(segmenter, text, phrases)
    matched_normalised = False
    norm = searchable(title, text, normalised)
    norm_marks = marked_spans(segmenter, norm, phrases) if norm else []
    if norm_marks and spans:
        new_title, new_text = [], []
        for start, end in norm_marks:
            in_title, in_text = split(title, *to_original(spans, start, end))
            if in_title and not _overlaps(in_title, title_spans):
                new_title.append(in_title)
            if in_text and not _overlaps(in_text, text_spans):
                new_text.append(in_text)
        matched_normalised = bool(new_title or new_text)
        title_spans = _merge(title, title_spans + new_title)
        text_spans = _merge(text, text_spans + new_text)
    elif norm_marks:
        # No map back: only a post that matched nothing in its original is known to have matched
        # through normalisation alone.
        matched_normalised = not (title_spans or text_spans)
    out: list[str] = []
    if title_spans:
        out.append(render(title, title_spans))
    out.extend(fragments(text, text_spans))
    if not out and text:
        out.append(render(text, [], 0, min(len(text), FRAGMENT_CHARS)))
    return Highlights(tuple(out), matched_normalised)


def _overlaps(span: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    return any(s < span[1] and span[0] < e for s, e in spans)
