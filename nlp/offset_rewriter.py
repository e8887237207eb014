"""The offset-keeping rewriter the normaliser's passes write through, and its result.

Each pass hands `_Rewriter.replace` spans of the CURRENT text; the rewriter keeps them as
non-overlapping edits of the ORIGINAL text (a span rewritten twice becomes one edit naming both
kinds), so `Normalised` can give the trail with original offsets and map any span of the
normalised text back to the original.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from nlp.analysis import TrailStep


# --------------------------------------------------------------------------------------------
# The rewriter: edits on the original text
# --------------------------------------------------------------------------------------------


@dataclass
class _Edit:
    start: int  # original offsets
    end: int
    out: str
    kinds: tuple[str, ...]


class _Rewriter:
    """Holds the original text and the edits made so far; `text` is the current normalised text."""

    __slots__ = ("original", "text", "edits")

    def __init__(self, original: str):
        self.original = original
        self.text = original
        self.edits: list[_Edit] = []

    def _layout(self):
        """Segments of the current text: (cur_start, cur_end, orig_start, orig_end, edit|None)."""
        segs = []
        cur = 0
        prev = 0
        for ed in self.edits:
            if ed.start > prev:
                n = ed.start - prev
                segs.append((cur, cur + n, prev, ed.start, None))
                cur += n
            segs.append((cur, cur + len(ed.out), ed.start, ed.end, ed))
            cur += len(ed.out)
            prev = ed.end
        if prev < len(self.original) or not segs:
            n = len(self.original) - prev
            segs.append((cur, cur + n, prev, len(self.original), None))
        return segs

    def replace(self, kind: str, subs: list[tuple[int, int, str]]) -> None:
        """Apply replacements given in CURRENT-text offsets: sorted, non-overlapping, non-empty."""
        if not subs:
            return
        segs = self._layout()
        covered: set[int] = set()
        new_edits: list[_Edit] = []
        i = 0
        for s, e, rep in subs:
            covered_before = set(covered)
            # skip segments wholly before s
            while i < len(segs) and (segs[i][1] <= s if segs[i][1] > segs[i][0] else segs[i][0] <= s):
                i += 1
            j = i
            first = last = None
            kinds: list[str] = []
            while j < len(segs):
                cs, ce, os_, oe, ed = segs[j]
                if cs >= e:
                    break
                overlaps = (cs < e and ce > s) if ce > cs else (s < cs < e)
                if overlaps:
                    if first is None:
                        first = segs[j]
                    last = segs[j]
                    if ed is not None:
                        covered.add(id(ed))
                        for k in ed.kinds:
                            if k not in kinds:
                                kinds.append(k)
                j += 1
            if first is None or (first[4] is not None and id(first[4]) in covered_before):
                # nothing to anchor on, or an earlier replacement in this same pass already took
                # this edit apart: skip rather than produce overlapping edits
                i = max(i, j - 1)
                continue
            fcs, _fce, fos, _foe, fed = first
            lcs, _lce, los, loe, led = last
            if fed is None:
                ostart, prefix = fos + (s - fcs), ""
            else:
                ostart, prefix = fos, fed.out[: s - fcs]
            if led is None:
                oend, suffix = los + (e - lcs), ""
            else:
                oend, suffix = loe, led.out[e - lcs:]
            if kind not in kinds:
                kinds.append(kind)
            new_edits.append(_Edit(ostart, oend, prefix + rep + suffix, tuple(kinds)))
            i = max(i, j - 1)
        kept = [ed for ed in self.edits if id(ed) not in covered]
        self.edits = sorted(kept + new_edits, key=lambda ed: (ed.start, ed.end))
        self.text = self._render()

    def _render(self) -> str:
        parts = []
        prev = 0
        orig = self.original
        for ed in self.edits:
            parts.append(orig[prev:ed.start])
            parts.append(ed.out)
            prev = ed.end
        parts.append(orig[prev:])
        return "".join(parts)


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Normalised:
    """The normalised text, the trail of changes (original offsets) and a way back."""

    text: str
    trail: tuple[TrailStep, ...]
    original: str = ""
    _starts: tuple[int, ...] = field(default=(), repr=False, compare=False)
    _segs: tuple = field(default=(), repr=False, compare=False)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalised text to the span of the original it came from.

        A span that touches part of a replacement widens to the whole replaced original span,
        because "微信" made from "薇❤信" cannot be split back character by character.
        """
        if not self.trail:
            return start, end
        n = len(self.text)
        start = max(0, min(start, n))
        end = max(start, min(end, n))
        ostart = self._map(start, side="start")
        if end == start:
            return ostart, ostart
        oend = self._map(end - 1, side="end")
        return ostart, max(ostart, oend)

    def _map(self, pos: int, side: str) -> int:
        # the last non-empty segment whose cur_start <= pos
        idx = bisect.bisect_right(self._starts, pos) - 1
        while idx > 0 and self._segs[idx][1] == self._segs[idx][0]:
            idx -= 1
        if idx < 0:
            return 0
        cs, ce, os_, oe, is_edit = self._segs[idx]
        if pos >= ce:  # past the end of the text
            return oe
        if is_edit:
            return os_ if side == "start" else oe
        return os_ + (pos - cs) + (1 if side == "end" else 0)

    def steps_within(self, start: int, end: int) -> tuple[TrailStep, ...]:
        """Trail steps that overlap the original span [start, end)."""
        return tuple(t for t in self.trail if t.start < end and t.end > start or (t.start == t.end == start))


def apply_trail(original: str, trail) -> str:
    """Rebuild the normalised text from the original and the trail (used by tests and reviewers)."""
    parts = []
    prev = 0
    for step in sorted(trail, key=lambda t: (t.start, t.end)):
        parts.append(original[prev:step.start])
        parts.append(step.replacement)
        prev = step.end
    parts.append(original[prev:])
    return "".join(parts)


_MERGEABLE = {"fullwidth", "traditional", "variant", "zero_width"}


def _finish(rw: _Rewriter) -> Normalised:
    if not rw.edits:
        return Normalised(text=rw.text, trail=(), original=rw.original)
    orig = rw.original
    # adjacent one-character edits of the same kind ("ｈｅｌｌｏ") read better as one step
    merged: list[list] = []
    for ed in rw.edits:
        kind = "+".join(ed.kinds)
        if merged and merged[-1][0] == kind and merged[-1][2] == ed.start and kind in _MERGEABLE:
            merged[-1][2] = ed.end
            merged[-1][3] += ed.out
        else:
            merged.append([kind, ed.start, ed.end, ed.out])
    trail = tuple(
        TrailStep(kind=k, start=s, end=e, original=orig[s:e], replacement=out) for k, s, e, out in merged
    )
    segs = tuple((cs, ce, os_, oe, ed is not None) for cs, ce, os_, oe, ed in rw._layout())
    return Normalised(text=rw.text, trail=trail, original=orig, _starts=tuple(s[0] for s in segs), _segs=segs)
