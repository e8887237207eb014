"""The ingest hook: a batch of stored posts updates the events, the hourly counts and the bursts.

Called by patrol.ingest.Ingestor after the posts are saved, with the new posts of the batch
(an edited post keeps the event it joined). Features are computed for the batch at once, the
events the batch can touch are read in one go (by MinHash band), clustering runs in memory, and
the changes are written in one transaction; bursts are judged for the keys the batch counted in
the current hour only.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Sequence

from nlp.gazetteer import Gazetteer, default_gazetteer
from nlp.minhash import band_keys, content_words, match_words, signature
from patrol.events import bursts, drift
from patrol.events.clustering import Clusterer
from patrol.events.model import SYSTEM, Event, PostFeatures
from patrol.events.rarity import word_key
from patrol.events.store import BatchWrite, EventStore
from patrol.events.trend_store import TrendStore
from patrol.events.watchlists import WatchList, safety_watch
from patrol.posts import analysed_text

log = logging.getLogger(__name__)
HARM_NONE = "none"


@dataclass
class EventReport:
    posts: int = 0
    clustered: int = 0
    unclustered: int = 0          # too little text to place in an event
    new_events: int = 0
    merged_events: int = 0
    bursts: list[str] = field(default_factory=list)   # alert ids opened
    auto_splits: list[tuple[str, str]] = field(default_factory=list)   # (event, the new event split off it)


def post_time(published: datetime | None, fetched: datetime, now: datetime) -> datetime:
    """When a post counts: its publication time, unless missing or in the future."""
    if published is None or published > now:
        return fetched if fetched <= now else now
    return published


class EventUpdater:
    def __init__(self, events: EventStore, trends: TrendStore, gazetteer: Gazetteer | None = None,
                 sentiment=None, source_places: dict[str, str] | None = None,
                 watchlists: Callable[[], list[WatchList]] | None = None):
        self.events = events
        self.trends = trends
        self.gazetteer = gazetteer or default_gazetteer()
        self._sentiment = sentiment
        self.source_places = source_places or {}
        self._watchlists = watchlists or (lambda: trends.watchlists(active_only=True))

    @property
    def sentiment(self):
        if self._sentiment is None:
            from nlp.sentiment import default_sentiment

            self._sentiment = default_sentiment()
        return self._sentiment

    def features(self, records: Sequence, now: datetime) -> list[PostFeatures]:
        texts = []
        for r in records:
            normalised = str((r.analysis or {}).get("normalised") or "") or analysed_text(r.title, r.text)
            texts.append(normalised)
        scores = self.sentiment.score_batch([analysed_text(r.title, r.text) for r in records])
        out = []
        for r, text, score in zip(records, texts, scores):
            words = content_words(text)
            match = frozenset(match_words(text))
            named = self.gazetteer.resolve(text)
            source_place = self.source_places.get(r.source, "")
            out.append(PostFeatures(
                post_id=r.id, at=post_time(r.published_at, r.fetched_at, now), source=r.source,
                words=words, signature=signature(match), sentiment=score, match=match,
                categories=tuple(c for c in (r.labels or ()) if c != HARM_NONE),
                place=self.gazetteer.resolve(text, source_place) if source_place else named,
                title=r.title, named_place=named.code if named.status == "resolved" else ""))
        return out

    def update(self, records: Sequence, now: datetime) -> EventReport:
        report = EventReport(posts=len(records))
        if not records:
            return report
        already = self.events.clustered([r.id for r in records])
        feats = sorted(self.features([r for r in records if r.id not in already], now),
                       key=lambda f: (f.at, f.post_id))
        self._cluster(feats, now, report)
        lists = [safety_watch()] + [w for w in self._watchlists() if w.id != safety_watch().id]
        self._count_and_judge(feats, lists, now, report)
        return report

    def _cluster(self, feats: list[PostFeatures], now: datetime, report: EventReport) -> None:
        placed = [f for f in feats if f.signature is not None]
        report.unclustered = len(feats) - len(placed)
        if not placed:
            return
        sigs = {f.post_id: f.signature for f in placed}
        # Which words are rare keys depends on the counts as each post meets them, so every word
        # of the batch is looked up as a key (a superset of those used).
        keys = {k for f in placed for k in band_keys(f.signature)} | {word_key(w) for f in placed for w in f.match}
        index, known = self.events.load_index(sorted(keys))
        # The counts of every word compared: the batch's and the candidate seeds' (a seed's word
        # the post lacks weighs in the union).
        seed_words = {w for ws in index.seed_words.values() for s in ws if s for w in s}
        rarity = self.events.load_rarity({w for f in placed for w in f.match} | seed_words)
        size_before = {eid: e.size for eid, e in known.items()}
        clusterer = Clusterer(index, rarity=rarity)
        w = BatchWrite(rarity=rarity)
        for f in placed:
            rarity.observe(f.match)
            a = clusterer.assign(f.post_id, sigs[f.post_id], f.named_place,
                                 f.place.code if f.place.status == "resolved" else "", f.at, f.match)
            if a.new:
                w.new_ids.add(a.event_id)
                known[a.event_id] = Event(id=a.event_id, first_seen=f.at, last_seen=f.at)
            event = known[a.event_id]
            for gone in a.merged:
                self._absorb(event, known.get(gone), w, gone)
            event.add(f)
            # The event is placed where most of its posts are, as a later batch reads it back.
            index.places[a.event_id] = event.place.code
            if a.new_bands:
                event.seeds.append((f.post_id, f.signature.tobytes().hex(), " ".join(sorted(f.match))))
                w.bands += [(k, a.event_id) for k in a.new_bands]
            w.events[a.event_id] = event
            w.posts.append((a.event_id, f))
        report.clustered = len(placed)
        report.new_events = len(w.new_ids - set(w.merged))
        report.merged_events = len(w.merged)
        self.events.write_batch(w, now)
        self.check_drift(w.events, size_before, now, report)

    def check_drift(self, events: dict[str, Event], size_before: dict[str, int], now: datetime,
                    report: EventReport) -> None:
        """The events a batch grew past a check (patrol/events/drift.py), but never one an
        officer merged or split: the officer's call stands."""
        for eid, e in sorted(events.items()):
            if e.status == "active" and not e.officer_touched and drift.due(size_before.get(eid, 0), e.size):
                self.split_if_drifted(e, now, report)

    def split_if_drifted(self, e: Event, now: datetime, report: EventReport) -> None:
        """Check a grown event for two topics and split off the one its first post is not in."""
        offset = max(0, e.size - drift.MAX_POSTS)
        rows = self.events.event_post_rows(e.id, limit=drift.MAX_POSTS, offset=offset)
        rarity = self.events.load_rarity({w for r in rows for w in r.words})
        first = e.seeds[0][0] if e.seeds else ""
        found = drift.find_split([(r.post_id, list(r.words)) for r in rows], first,
                                 lambda w: rarity.idf(w) if rarity.ready else 1.0)
        if found is None:
            return
        try:
            fresh = self.events.split(e.id, list(found.leaving), SYSTEM, now, auto=found.detail())
        except Exception:   # a refused split (an officer changed the event meanwhile) loses nothing
            log.exception("automatic split of event %s refused", e.id)
            return
        report.auto_splits.append((e.id, fresh.id))

    @staticmethod
    def _absorb(into: Event, gone: Event | None, w: BatchWrite, gone_id: str) -> None:
        w.merged[gone_id] = into.id
        if gone is None:
            return
        into.size += gone.size
        into.first_seen = min(into.first_seen, gone.first_seen)
        into.last_seen = max(into.last_seen, gone.last_seen)
        for name in ("sources", "terms", "categories", "places"):
            getattr(into, name).update(getattr(gone, name))
        into.sentiment_sum += gone.sentiment_sum
        into.negative += gone.negative
        gone.status, gone.merged_into = "merged", into.id
        if gone_id in w.new_ids:
            w.new_ids.discard(gone_id)
            w.events.pop(gone_id, None)
            # It was never written: its posts and bands are written under the event it went into.
            w.merged.pop(gone_id, None)
            w.renamed[gone_id] = into.id
        else:
            w.events[gone_id] = gone

    def _count_and_judge(self, feats: list[PostFeatures], lists: list[WatchList], now: datetime,
                         report: EventReport) -> None:
        horizon = now - timedelta(days=bursts.HISTORY_DAYS + 1)
        increments: Counter = Counter()
        term_lists: dict[str, WatchList] = {}
        for f in feats:
            if f.at < horizon:
                continue   # too old to be history for any window still judged
            hour = bursts.window_start(f.at)
            for c in set(f.categories):
                increments[(bursts.CATEGORY, c, hour)] += 1
            if f.place.status == "resolved":
                for code in {f.place.code[:2], f.place.code[:4]}:
                    if len(code) >= 2 and code in self.gazetteer.divisions:
                        increments[(bursts.PLACE, code, hour)] += 1
            text = " ".join(f.words) + " " + f.title
            for wl in lists:
                for t in set(wl.matches(text)):
                    key = f"{wl.id}:{t}"[:100]
                    increments[(bursts.TERM, key, hour)] += 1
                    term_lists[key] = wl
        self.trends.add_counts(increments)
        # The windows judged: the current hour and the one before it (a batch crawled at 10:05
        # carries the posts of 9:xx), each against its own history, each at most once.
        recent = {bursts.window_start(now), bursts.window_start(now) - bursts.WINDOW}
        for kind, key, window in sorted(k for k in increments if k[2] in recent):
            wl = term_lists.get(key)
            floor = wl.min_count if wl else bursts.MIN_COUNT[kind]
            hist_hours = bursts.history_hours(window)
            got = self.trends.counts_at(kind, key, hist_hours + [window])
            verdict = bursts.judge(got.get(window, 0), [got.get(h, 0) for h in hist_hours], floor)
            if not verdict.burst:
                continue
            label = self._label(kind, key, wl)
            series = [(h.isoformat(), got.get(h, 0)) for h in hist_hours[-24:] + [window]]
            alert = bursts.trend_alert(kind, key, label, window, verdict, series, now, wl.id if wl else "")
            if self.trends.open_burst(kind, key, window, verdict, alert, label, now):
                report.bursts.append(alert.id)

    def _label(self, kind: str, key: str, wl: WatchList | None) -> str:
        if kind == bursts.PLACE:
            return "地区 " + self.gazetteer.place_of(key).label
        if kind == bursts.CATEGORY:
            from patrol.taxonomy import LABEL_ZH

            return "类别 " + LABEL_ZH.get(key, key)
        return f"{wl.name if wl else '词'}：{key.split(':', 1)[-1]}"
