"""Text shaping for the console: evidence highlighting and the normalisation trail.

Highlighting is done on the ORIGINAL post text with the evidence offsets, cutting the text into
segments that Jinja escapes one by one; no HTML is ever built by string concatenation here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from patrol.identifiers import find_identifiers, mask_all
from patrol.posts import analysed_text


@dataclass(frozen=True)
class Segment:
    text: str
    # The evidence items covering this whole segment (empty: plain text).
    marks: tuple[dict, ...] = field(default_factory=tuple)
    # Inside a personal identifier: its index (what a reveal asks for), kind, this segment's
    # offset into it, and the masked text shown instead of `text`.
    identifier: int | None = None
    kind: str = ""
    offset: int = 0
    masked: str = ""

    @property
    def shown(self) -> str:
        return self.masked if self.identifier is not None else self.text

    @property
    def categories(self) -> list[str]:
        return sorted({m["category"] for m in self.marks})

    @property
    def title(self) -> str:
        return "; ".join(f'{m["category"]}: {m["term"]} ({m["source"]})' for m in self.marks)


def highlight_segments(text: str, evidence: Iterable[dict], identifiers: Iterable[dict] = ()) -> list[Segment]:
    """Cut `text` at every evidence and identifier boundary. Spans that fall outside the text or
    are empty are ignored rather than trusted: the frozen text is what the officer must see, intact.
    `identifiers`: {"index", "kind", "start", "end", "masked"} with offsets into `text`."""
    spans = [e for e in evidence
             if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)
             and 0 <= e["start"] < e["end"] <= len(text)]
    idents = [i for i in identifiers if 0 <= i["start"] < i["end"] <= len(text)]
    cuts = sorted({0, len(text), *(e["start"] for e in spans), *(e["end"] for e in spans),
                   *(i["start"] for i in idents), *(i["end"] for i in idents)})
    segments: list[Segment] = []
    for a, b in zip(cuts, cuts[1:]):
        covering = tuple(e for e in spans if e["start"] <= a and b <= e["end"])
        ident = next((i for i in idents if i["start"] <= a and b <= i["end"]), None)
        if ident is None:
            segments.append(Segment(text[a:b], covering))
        else:
            off = a - ident["start"]
            segments.append(Segment(text[a:b], covering, ident["index"], ident["kind"], off + ident["skip"],
                                    ident["masked"][off:off + (b - a)]))
    return segments


def highlight_post(title: str, text: str, evidence: Iterable[dict],
                   revealed: frozenset[int] = frozenset()) -> tuple[list[Segment], list[Segment]]:
    """Segments of the title and of the text, personal identifiers masked. Evidence offsets point
    into the one string the analyzer saw (patrol.posts.analysed_text: the title, a newline, the
    text), so each span is moved onto the part it falls in, and a span across the line break is
    cut in two. Identifiers are found on that same string, so their index is the one a reveal names;
    those in `revealed` (an audited reveal without JavaScript, the page drawn again) stay unmasked."""
    evidence = list(evidence)
    whole = analysed_text(title, text)
    text_start = len(whole) - len(text)
    idents = [{"index": i.index, "kind": i.kind, "start": i.start, "end": i.end, "masked": i.masked}
              for i in find_identifiers(whole) if i.index not in revealed]
    return (highlight_segments(title, _window(evidence, 0, len(title)), _window_idents(idents, 0, len(title))),
            highlight_segments(text, _window(evidence, text_start, text_start + len(text)),
                               _window_idents(idents, text_start, text_start + len(text))))


def _window_idents(idents: list[dict], lo: int, hi: int) -> list[dict]:
    """Identifiers moved onto [lo, hi); `skip` is how much of one was cut off at the left, and its
    masked text is cut the same way."""
    out = []
    for i in idents:
        start, end = max(i["start"], lo), min(i["end"], hi)
        if start < end:
            skip = start - i["start"]
            out.append({**i, "start": start - lo, "end": end - lo, "skip": skip,
                        "masked": i["masked"][skip:skip + end - start]})
    return out


def mask_text(text: str) -> str:
    """`text` with its personal identifiers masked (post pages, queue excerpts): no reveal there."""
    return mask_all(text)


def _window(evidence: list[dict], lo: int, hi: int) -> list[dict]:
    out = []
    for e in evidence:
        start, end = e.get("start"), e.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            continue
        start, end = max(start, lo), min(end, hi)
        if start < end:
            out.append({**e, "start": start - lo, "end": end - lo})
    return out


# Characters an officer cannot see in the trail ("  → " says nothing); shown by name instead.
_INVISIBLE = {" ": "␣", "\t": "⇥", "\n": "↵", "\u3000": "全角空格", "\u200b": "零宽空格", "\u200c": "零宽非连接符",
              "\u200d": "零宽连接符", "\ufeff": "BOM", "\u00a0": "不换行空格"}


def visible(s: str) -> str:
    if not s:
        return "（删除）"
    return "".join(_INVISIBLE.get(ch, ch) for ch in s)


@dataclass(frozen=True)
class TrailGroup:
    original: str
    replacement: str
    kinds: tuple[str, ...]
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.original} → {self.replacement}"


def trail_groups(trail: Sequence[dict]) -> list[TrailGroup]:
    """Adjacent normalisation steps read as one change ("薇❤ → 微信" rather than "薇 → 微",
    "❤ → 信"), which is how an officer reads an evasion."""
    groups: list[TrailGroup] = []
    for step in sorted(trail, key=lambda s: (s["start"], s["end"])):
        # One step may undo several tricks at once: the normaliser joins their kinds with "+".
        step_kinds = tuple(k for k in step["kind"].split("+") if k)
        if groups and groups[-1].end == step["start"]:
            g = groups[-1]
            kinds = g.kinds + tuple(k for k in step_kinds if k not in g.kinds)
            groups[-1] = TrailGroup(g.original + step["original"], g.replacement + step["replacement"],
                                    kinds, g.start, step["end"])
        else:
            groups.append(TrailGroup(step["original"], step["replacement"], step_kinds,
                                     step["start"], step["end"]))
    return groups
