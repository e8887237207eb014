"""Text shaping for the console: evidence highlighting and the normalisation trail.

Highlighting is done on the ORIGINAL post text with the evidence offsets, cutting the text into
segments that Jinja escapes one by one; no HTML is ever built by string concatenation here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from patrol.posts import analysed_text


@dataclass(frozen=True)
class Segment:
    text: str
    # The evidence items covering this whole segment (empty: plain text).
    marks: tuple[dict, ...] = field(default_factory=tuple)

    @property
    def categories(self) -> list[str]:
        return sorted({m["category"] for m in self.marks})

    @property
    def title(self) -> str:
        return "; ".join(f'{m["category"]}: {m["term"]} ({m["source"]})' for m in self.marks)


def highlight_segments(text: str, evidence: Iterable[dict]) -> list[Segment]:
    """Cut `text` at every evidence boundary. Spans that fall outside the text or are empty are
    ignored rather than trusted: the frozen text is what the officer must see, intact."""
    spans = [e for e in evidence
             if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)
             and 0 <= e["start"] < e["end"] <= len(text)]
    cuts = sorted({0, len(text), *(e["start"] for e in spans), *(e["end"] for e in spans)})
    segments: list[Segment] = []
    for a, b in zip(cuts, cuts[1:]):
        covering = tuple(e for e in spans if e["start"] <= a and b <= e["end"])
        segments.append(Segment(text[a:b], covering))
    return segments


def highlight_post(title: str, text: str, evidence: Iterable[dict]) -> tuple[list[Segment], list[Segment]]:
    """Segments of the title and of the text. Evidence offsets point into the one string the
    analyzer saw (patrol.posts.analysed_text: the title, a newline, the text), so each span is
    moved onto the part it falls in, and a span across the line break is cut in two."""
    evidence = list(evidence)
    text_start = len(analysed_text(title, text)) - len(text)
    return (highlight_segments(title, _window(evidence, 0, len(title))),
            highlight_segments(text, _window(evidence, text_start, text_start + len(text))))


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
