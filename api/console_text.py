"""Text shaping for the console: evidence highlighting and the normalisation trail.

Highlighting is done on the ORIGINAL post text with the evidence offsets, cutting the text into
segments that Jinja escapes one by one; no HTML is ever built by string concatenation here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence


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
        if groups and groups[-1].end == step["start"]:
            g = groups[-1]
            kinds = g.kinds if step["kind"] in g.kinds else g.kinds + (step["kind"],)
            groups[-1] = TrailGroup(g.original + step["original"], g.replacement + step["replacement"],
                                    kinds, g.start, step["end"])
        else:
            groups.append(TrailGroup(step["original"], step["replacement"], (step["kind"],),
                                     step["start"], step["end"]))
    return groups
