"""An event that has drifted into two topics, found and split (pure: the split itself is
`EventStore.split(..., auto=...)`, audited as `event.auto_split`).

Why: clustering decides a post's event once, when it arrives; a bridge post (a report naming two
incidents, or one like both) can join two incidents into one event, and nothing would take them
apart again. So an event is checked again as it grows (each time its size reaches the next multiple
of CHECK_EVERY): its posts' words, weighted by rarity, are cut in two by 2-means on cosine; the cut
is taken only when both parts are substantial and the parts' centres are far apart while each part
holds together. The part without the event's first post leaves, so the event keeps its identity.

An officer's word stands: an event an officer merged or split is never split automatically
(`Event.trace`), and an officer can merge an automatic split back (that merge then stands too).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

CHECK_EVERY = 10        # checked when its size reaches 20, 30, 40 ...
MIN_SIZE = 20
MIN_PART = 5            # the smaller part has at least this many posts ...
MIN_SHARE = 0.2         # ... and this share of the event
SPLIT_BELOW = 0.2       # the parts' centres are less alike than this (cosine) ...
COHESION_OVER = 2.0     # ... and each part's posts are this many times more like their own centre
ITERATIONS = 6
MAX_POSTS = 400         # an event's most recent posts checked (enough to see two topics)


@dataclass(frozen=True)
class Split:
    leaving: tuple[str, ...]      # post ids of the part that becomes a new event
    staying: int
    between: float                # cosine of the two parts' centres
    cohesion: tuple[float, float] # mean cosine of each part's posts to their centre (staying, leaving)

    def detail(self) -> dict:
        return {"posts_moved": len(self.leaving), "posts_kept": self.staying, "between": round(self.between, 3),
                "cohesion": [round(c, 3) for c in self.cohesion]}


def due(size_before: int, size_after: int) -> bool:
    """The event reached the next multiple of CHECK_EVERY (at or above MIN_SIZE) in this batch."""
    return size_after >= MIN_SIZE and size_after // CHECK_EVERY > size_before // CHECK_EVERY


def _vector(words, weight: Callable[[str], float]) -> dict[str, float]:
    v = {w: weight(w) for w in set(words)}
    norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
    return {w: x / norm for w, x in v.items()}


def _cos(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(x * b.get(w, 0.0) for w, x in a.items())
    na = math.sqrt(sum(x * x for x in a.values()))
    nb = math.sqrt(sum(x * x for x in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def _centre(vectors: list[dict[str, float]]) -> dict[str, float]:
    c: dict[str, float] = {}
    for v in vectors:
        for w, x in v.items():
            c[w] = c.get(w, 0.0) + x
    return c


def find_split(posts: list[tuple[str, list[str]]], first_post: str,
               weight: Callable[[str], float]) -> Split | None:
    """`posts`: (post id, words) of one event, in time order; `first_post`: the one it is named
    after (it stays). None when the event is one topic (or too small to say)."""
    posts = [(p, w) for p, w in posts if w]
    n = len(posts)
    if n < MIN_SIZE:
        return None
    vecs = [_vector(w, weight) for _p, w in posts]
    # Far-apart starts: the post least like the whole, then the post least like that one.
    whole = _centre(vecs)
    a = min(range(n), key=lambda i: (_cos(vecs[i], whole), i))
    b = min(range(n), key=lambda i: (_cos(vecs[i], vecs[a]), i))
    centres = [vecs[a], vecs[b]]
    side = [0] * n
    for _ in range(ITERATIONS):
        new = [0 if _cos(v, centres[0]) >= _cos(v, centres[1]) else 1 for v in vecs]
        if new == side and _ > 0:
            break
        side = new
        parts = [[v for v, s in zip(vecs, side) if s == k] for k in (0, 1)]
        if not parts[0] or not parts[1]:
            return None
        centres = [_centre(parts[0]), _centre(parts[1])]
    sizes = [side.count(0), side.count(1)]
    if min(sizes) < max(MIN_PART, MIN_SHARE * n):
        return None
    between = _cos(centres[0], centres[1])
    cohesion = [sum(_cos(v, centres[k]) for v, s in zip(vecs, side) if s == k) / sizes[k] for k in (0, 1)]
    if between >= SPLIT_BELOW or min(cohesion) < COHESION_OVER * between:
        return None
    ids = [p for p, _w in posts]
    stay = side[ids.index(first_post)] if first_post in ids else side[0]
    leaving = tuple(p for p, s in zip(ids, side) if s != stay)
    return Split(leaving=leaving, staying=n - len(leaving), between=between,
                 cohesion=(cohesion[stay], cohesion[1 - stay]))
