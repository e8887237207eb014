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

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from nlp.minhash import band_keys
from patrol.events.model import event_id_for
from patrol.events.rarity import WordRarity

JOIN_AT = 0.3       # estimated Jaccard of content words to join an event
# A weaker match joins when the post is placed where the event is (both at city level or finer):
# reports of one incident share its place more surely than its wording.
PLACED_JOIN_AT = 0.15
MERGE_AT = 0.5      # a post this close to two events (by its words) says they are one incident
MAX_SEEDS = 8
# Weighted by rarity (patrol/events/rarity.py) the likeness is the IDF-weighted Jaccard of the
# words: shared common words count little, so the thresholds differ (tuned on bench/events_bench).
WEIGHTED_JOIN_AT = 0.33
WEIGHTED_PLACED_JOIN_AT = 0.22
WEIGHTED_MERGE_AT = 0.55
MAX_CANDIDATES = 6    # events compared word by word per post, those sharing the most keys (24: same F1, twice the CPU)
# An event quiet this long is over: a post after it starts a new one (the same road, a new fire).
QUIET_AFTER = timedelta(hours=24)


@dataclass
class BandIndex:
    """The part of the known events a batch needs: band key -> events, and events' seeds."""
    bands: dict[str, set[str]] = field(default_factory=dict)
    seeds: dict[str, list[np.ndarray]] = field(default_factory=dict)
    seed_words: dict[str, list[frozenset[str] | None]] = field(default_factory=dict)  # None: not kept
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
    """`rarity`: word document frequencies (patrol/events/rarity.py). Given, posts are compared on
    their words weighted by rarity, and their rarest words are candidate keys beside the MinHash
    bands; None is the unweighted method (estimated Jaccard of the signatures), kept as the
    benchmark's baseline and for events whose seeds predate the words being kept."""

    def __init__(self, index: BandIndex, max_seeds: int = MAX_SEEDS, rarity: WordRarity | None = None):
        self.index = index
        self.rarity = rarity
        self.max_seeds = max_seeds

    @property
    def weighted(self) -> bool:
        """Weighted once the counts can be trusted (patrol/events/rarity.py WEIGHT_AFTER)."""
        return self.rarity is not None and self.rarity.ready

    @property
    def join_at(self) -> float:
        return WEIGHTED_JOIN_AT if self.weighted else JOIN_AT

    @property
    def placed_join_at(self) -> float:
        return WEIGHTED_PLACED_JOIN_AT if self.weighted else PLACED_JOIN_AT

    @property
    def merge_at(self) -> float:
        return WEIGHTED_MERGE_AT if self.weighted else MERGE_AT

    def keys_for(self, sig: np.ndarray, words: frozenset[str]) -> list[str]:
        keys = band_keys(sig)
        if self.rarity is not None:
            keys += self.rarity.rare_keys(words)
        return keys

    def assign(self, post_id: str, sig: np.ndarray, place: str = "", context_place: str = "",
               at: datetime | None = None, words: frozenset[str] = frozenset()) -> Assignment:
        """`place`: the place the text names; `context_place`: the post's place with the source's
        own as the fallback (what an event is placed by). Codes, "" when unknown. `words`: the
        post's match words (needed when weighting by rarity)."""
        context_place = context_place or place
        keys = self.keys_for(sig, words)
        shared: Counter = Counter(self.index.live(e) for k in keys for e in self.index.bands.get(k, ()))
        if at is not None:
            for e in [e for e in shared if e in self.index.last_seen and at - self.index.last_seen[e] > QUIET_AFTER]:
                del shared[e]
        if self.weighted and len(shared) > MAX_CANDIDATES:
            # The events sharing the most keys: the rest would need more likeness than they can have.
            shared = Counter(dict(sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CANDIDATES]))
        best = self._best_likeness(sorted(shared), sig, words)
        scored = []
        for e, v in best.items():
            if other_place(place, self.index.places.get(e, "")):
                continue   # a fire in Chengdu is not the fire in Nanjing, however alike the words
            if v >= self.join_at or (v >= self.placed_join_at and same_place(place, self.index.places.get(e, ""))):
                scored.append((v, self.index.sizes.get(e, 0), e))
        if not scored:
            event_id = event_id_for(post_id)
            self._add_seed(event_id, sig, keys, words)
            self.index.sizes[event_id] = 1
            self.index.places[event_id] = context_place
            self._seen(event_id, at)
            return Assignment(event_id, True, tuple(keys))
        if not self.weighted:
            scored.sort(key=lambda t: (-t[1], -t[0], t[2]))     # the largest event it matches
        else:
            # Weighted, the likeness is trusted more than size: the event it is most like (the
            # largest would let the first big fire of a season take every fire after it).
            scored.sort(key=lambda t: (-t[0], -t[1], t[2]))
        target = scored[0][2]
        merged = tuple(e for s, _n, e in scored[1:] if self._merges(s, e, context_place)
                       and self._merges(scored[0][0], target, context_place))
        for e in merged:
            self.index.merged[e] = target
            self.index.sizes[target] = self.index.sizes.get(target, 0) + self.index.sizes.pop(e, 0)
            self.index.seeds.pop(e, None)
            self.index.seed_words.pop(e, None)
        self.index.sizes[target] = self.index.sizes.get(target, 0) + 1
        self._seen(target, at)
        for e in merged:
            self._seen(target, self.index.last_seen.get(e))
        new_bands: tuple[str, ...] = ()
        if len(self.index.seeds.get(target, ())) < self.max_seeds:
            self._add_seed(target, sig, keys, words)
            new_bands = tuple(keys)
        return Assignment(target, False, new_bands, merged)

    def _best_likeness(self, candidates: list[str], sig: np.ndarray, words: frozenset[str]) -> dict[str, float]:
        """Per candidate event, the post's likeness to its closest seed."""
        best: dict[str, float] = {}
        owners, seeds, owner_words = [], [], []
        for e in candidates:
            seed_words = self.index.seed_words.get(e, [])
            for i, s in enumerate(self.index.seeds.get(e, ())):
                owners.append(e)
                seeds.append(s)
                owner_words.append(seed_words[i] if i < len(seed_words) else None)
        if not seeds:
            return best
        # Every candidate seed at once: the share of equal slots is the Jaccard estimate.
        sims = ((np.vstack(seeds) == sig).sum(axis=1) / sig.shape[0]).tolist()
        if not self.weighted:
            for e, v in zip(owners, sims):
                best[e] = max(best.get(e, 0.0), v)
            return best
        # Weighted: the mean over the event's seeds, not the closest one. One incident's reports
        # are all alike; a report of another fire is like one seed by chance, not like them all.
        total: dict[str, float] = {}
        count: Counter = Counter()
        memo: dict[str, float] = {}
        for e, v, sw in zip(owners, sims, owner_words):
            if sw is not None and words:
                v = self.rarity.weighted_jaccard(words, sw, memo)
            total[e] = total.get(e, 0.0) + v
            count[e] += 1
        return {e: total[e] / count[e] for e in total}

    def _seen(self, event_id: str, at: datetime | None) -> None:
        if at is not None and (event_id not in self.index.last_seen or at > self.index.last_seen[event_id]):
            self.index.last_seen[event_id] = at

    def _merges(self, score: float, event_id: str, context_place: str) -> bool:
        # Strongly like two events: one incident. Placed in the same city as both, a join-level
        # likeness is enough.
        return score >= self.merge_at or (score >= self.join_at
                                          and same_place(context_place, self.index.places.get(event_id, "")))

    def _add_seed(self, event_id: str, sig: np.ndarray, keys: list[str], words: frozenset[str]) -> None:
        self.index.seeds.setdefault(event_id, []).append(sig)
        self.index.seed_words.setdefault(event_id, []).append(words)
        for k in keys:
            self.index.bands.setdefault(k, set()).add(event_id)
