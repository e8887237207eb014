"""The values of the event views: a post's features, an event, and how an event's place and
growth are read from its posts."""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from nlp.gazetteer import Place, default_gazetteer
from nlp.minhash import top_terms
from nlp.sentiment import NEGATIVE_BELOW

ACTIVE, DISMISSED, MERGED = "active", "dismissed", "merged"
SYSTEM = "system"    # the actor of automatic changes (an automatic split)
STATUSES = (ACTIVE, DISMISSED, MERGED)
MAX_TERMS = 60        # terms kept per event: the counts are of the top terms, approximately
MAX_POST_WORDS = 20   # words kept per post, enough to rebuild an event's terms after a split


def event_id_for(first_post_id: str) -> str:
    """An event is named after the post that started it: the same in every process and order."""
    return "e" + hashlib.sha256(first_post_id.encode()).hexdigest()[:15]


@dataclass
class PostFeatures:
    post_id: str
    at: datetime
    source: str
    words: list[str]                       # content words, repeats kept
    signature: np.ndarray | None           # None: too little text to cluster
    sentiment: float = 0.0
    categories: tuple[str, ...] = ()
    place: Place = field(default_factory=Place.unknown)
    title: str = ""
    # The place the text itself names ("" when only the source's own place placed it): only a
    # named place lets a weaker textual match join an event (patrol/events/clustering.py).
    named_place: str = ""
    match: frozenset[str] = frozenset()    # the words compared (nlp.minhash.match_words)

    @property
    def negative(self) -> bool:
        return self.sentiment < NEGATIVE_BELOW


@dataclass
class Event:
    id: str
    first_seen: datetime
    last_seen: datetime
    title: str = ""
    renamed: bool = False
    status: str = ACTIVE
    merged_into: str | None = None
    size: int = 0
    sources: Counter = field(default_factory=Counter)
    terms: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    places: Counter = field(default_factory=Counter)     # resolved place code -> posts
    sentiment_sum: float = 0.0
    negative: int = 0
    # (post id, signature hex, its match words joined by spaces); seeds written before the words
    # were kept are pairs, and are compared by their signature alone.
    seeds: list[tuple] = field(default_factory=list)
    # Splits and merges, newest last: {"at", "by", "action", "other", ...} (patrol/events/drift.py).
    trace: list[dict] = field(default_factory=list)

    def add(self, f: PostFeatures) -> None:
        self.size += 1
        self.first_seen = min(self.first_seen, f.at)
        self.last_seen = max(self.last_seen, f.at)
        self.sources[f.source] += 1
        self.terms.update(set(f.words))   # one post counts a word once
        if len(self.terms) > MAX_TERMS * 2:
            self.terms = Counter(dict(self.terms.most_common(MAX_TERMS)))
        self.categories.update(c for c in f.categories if c != "none")
        if f.place.status == "resolved":
            self.places[f.place.code] += 1
        self.sentiment_sum += f.sentiment
        self.negative += int(f.negative)
        if not self.renamed:
            self.title = self.auto_title(f)

    def auto_title(self, f: PostFeatures) -> str:
        # The first post's title when it had one, else the top terms: an officer may rename it.
        if self.title and self.size > 1:
            return self.title
        return (f.title or "·".join(top_terms(self.terms, 4)))[:120]

    @property
    def officer_touched(self) -> bool:
        """An officer merged or split it: no automatic split second-guesses that."""
        return any(t.get("by") != SYSTEM for t in self.trace)

    @property
    def place(self) -> Place:
        return event_place(self.places)

    @property
    def sentiment(self) -> float:
        return round(self.sentiment_sum / self.size, 4) if self.size else 0.0

    def seed_signatures(self) -> list[np.ndarray]:
        return [np.frombuffer(bytes.fromhex(s[1]), dtype=np.uint32) for s in self.seeds]

    def seed_word_sets(self) -> list[frozenset[str] | None]:
        return [frozenset(s[2].split()) if len(s) > 2 else None for s in self.seeds]


def event_place(places: Counter) -> Place:
    """The place most of an event's placed posts agree on: the top province, then its top city
    when at least half of that province's posts name it, then the district likewise."""
    if not places:
        return Place.unknown()
    support: Counter[str] = Counter()
    for code, n in places.items():
        for prefix in {code[:2], code[:4], code}:
            if len(prefix) in (2, 4, 6) and len(prefix) <= len(code):
                support[prefix] += n
    best = max((c for c in support if len(c) == 2), key=lambda c: (support[c], c))
    for width in (4, 6):
        below = [c for c in support if len(c) == width and c.startswith(best)]
        if not below:
            break
        top = max(below, key=lambda c: (support[c], c))
        if support[top] * 2 < support[best]:
            break
        best = top
    return default_gazetteer().place_of(best)


@dataclass(frozen=True)
class Activity:
    """An event's posts in the last hour and day against the hour and day before."""
    last_hour: int = 0
    prev_hour: int = 0
    last_day: int = 0
    prev_day: int = 0
    negative_last_hour: int = 0
    negative_before: int = 0     # negative posts in the 23 hours before the last one
    before: int = 0              # posts in the 23 hours before the last one

    @property
    def growth_hour(self) -> float:
        return round((self.last_hour + 1) / (self.prev_hour + 1), 3)

    @property
    def growth_day(self) -> float:
        return round((self.last_day + 1) / (self.prev_day + 1), 3)

    @property
    def negative_surge(self) -> float:
        """How much more negative the last hour reads than the day before it (0 when not)."""
        if not self.last_hour:
            return 0.0
        now_share = self.negative_last_hour / self.last_hour
        before_share = self.negative_before / self.before if self.before else 0.0
        return round(max(0.0, now_share - before_share), 3)

    @property
    def growth_score(self) -> float:
        # Growth over the last hour, lifted by a surge of negative posts inside the event.
        return round(self.growth_hour * (1.0 + self.negative_surge), 3)
