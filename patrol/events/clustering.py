"""Incremental clustering: each new post joins the event it is most like, or starts one.

A post is compared only with the events that share a MinHash band with it (the band index), and
only with each event's seeds (its first posts), never with a drifting centre: an event cannot
creep, one loose post at a time, into a topic that swallows everything. Nothing is recomputed in
batch; a post's event is decided once, when it arrives. A post that matches two events strongly
merges the smaller into the larger.

Order: posts are taken in (time, id) order, so one batch and the same posts one by one in time
order give the same events exactly; posts arriving out of time order may differ slightly
(tests/patrol/test_events_clustering.py states the tolerance).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from nlp.minhash import band_keys
from patrol.events.model import event_id_for

JOIN_AT = 0.3       # estimated Jaccard of content words to join an event
# A weaker match joins when the post is placed where the event is (both at city level or finer):
# reports of one incident share its place more surely than its wording.
PLACED_JOIN_AT = 0.15
MERGE_AT = 0.5      # a post this close to two events (by its words) says they are one incident
MAX_SEEDS = 8
# An event quiet this long is over: a post after it starts a new one (the same road, a new fire).
QUIET_AFTER = timedelta(hours=24)


@dataclass
class BandIndex:
    """The part of the known events a batch needs: band key -> events, and events' seeds."""
    bands: dict[str, set[str]] = field(default_factory=dict)
    seeds: dict[str, list[np.ndarray]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)   # merged event -> the one it went into
    places: dict[str, str] = field(default_factory=dict)   # event -> its place code ("" unknown)
    last_seen: dict[str, datetime] = field(default_factory=dict)

    def live(self, event_id: str) -> str:
        while event_id in self.merged:
            event_id = self.merged[event_id]
        return event_id


@dataclass(frozen=True)
class Assignment:
    event_id: str
    new: bool
    new_bands: tuple[str, ...] = ()       # band keys to record for this event (a new seed's)
    merged: tuple[str, ...] = ()          # events merged into event_id by this post


def other_place(a: str, b: str) -> bool:
    """Both placed at city level or finer, in different cities."""
    return len(a) >= 4 and len(b) >= 4 and a[:4] != b[:4]


def same_place(a: str, b: str) -> bool:
    """Both placed at city level or finer, one inside the other."""
    return len(a) >= 4 and len(b) >= 4 and (a.startswith(b) or b.startswith(a))


class Clusterer:
    def __init__(self, index: BandIndex, join_at: float = JOIN_AT, merge_at: float = MERGE_AT,
                 max_seeds: int = MAX_SEEDS):
        self.index = index
        self.join_at = join_at
        self.merge_at = merge_at
        self.max_seeds = max_seeds

    def assign(self, post_id: str, sig: np.ndarray, place: str = "", context_place: str = "",
               at: datetime | None = None) -> Assignment:
        """`place`: the place the post's text names; `context_place`: its place with the source's
        own as the fallback (what an event is placed by). Codes, "" when unknown."""
        context_place = context_place or place
        keys = band_keys(sig)
        candidates = {self.index.live(e) for k in keys for e in self.index.bands.get(k, ())}
        if at is not None:
            candidates = {e for e in candidates
                          if e not in self.index.last_seen or at - self.index.last_seen[e] <= QUIET_AFTER}
        scored = []
        owners, seeds = [], []
        for e in sorted(candidates):
            for s in self.index.seeds.get(e, ()):
                owners.append(e)
                seeds.append(s)
        if seeds:
            # Every candidate seed at once: the share of equal slots is the Jaccard estimate.
            sims = (np.vstack(seeds) == sig).sum(axis=1) / sig.shape[0]
            best: dict[str, float] = {}
            for e, v in zip(owners, sims.tolist()):
                best[e] = max(best.get(e, 0.0), v)
            for e, v in best.items():
                if other_place(place, self.index.places.get(e, "")):
                    continue   # a fire in Chengdu is not the fire in Nanjing, however alike the words
                if v >= self.join_at or (v >= PLACED_JOIN_AT and same_place(place, self.index.places.get(e, ""))):
                    scored.append((v, self.index.sizes.get(e, 0), e))
        if not scored:
            event_id = event_id_for(post_id)
            self._add_seed(event_id, sig, keys)
            self.index.sizes[event_id] = 1
            self.index.places[event_id] = context_place
            self._seen(event_id, at)
            return Assignment(event_id, True, tuple(keys))
        scored.sort(key=lambda t: (-t[1], -t[0], t[2]))     # the largest event it matches
        target = scored[0][2]
        merged = tuple(e for s, _n, e in scored[1:] if self._merges(s, e, context_place)
                       and self._merges(scored[0][0], target, context_place))
        for e in merged:
            self.index.merged[e] = target
            self.index.sizes[target] = self.index.sizes.get(target, 0) + self.index.sizes.pop(e, 0)
            self.index.seeds.pop(e, None)
        self.index.sizes[target] = self.index.sizes.get(target, 0) + 1
        self._seen(target, at)
        for e in merged:
            self._seen(target, self.index.last_seen.get(e))
        new_bands: tuple[str, ...] = ()
        if len(self.index.seeds.get(target, ())) < self.max_seeds:
            self._add_seed(target, sig, keys)
            new_bands = tuple(keys)
        return Assignment(target, False, new_bands, merged)

    def _seen(self, event_id: str, at: datetime | None) -> None:
        if at is not None and (event_id not in self.index.last_seen or at > self.index.last_seen[event_id]):
            self.index.last_seen[event_id] = at

    def _merges(self, score: float, event_id: str, context_place: str) -> bool:
        # Strongly like two events: one incident. Placed in the same city as both, a join-level
        # likeness is enough.
        return score >= self.merge_at or (score >= self.join_at
                                          and same_place(context_place, self.index.places.get(event_id, "")))

    def _add_seed(self, event_id: str, sig: np.ndarray, keys: list[str]) -> None:
        self.index.seeds.setdefault(event_id, []).append(sig)
        for k in keys:
            self.index.bands.setdefault(k, set()).add(event_id)
