"""The events' repository: what clustering needs from the known events, the one write per ingest
batch, the reads behind the API, and the officer's changes (merge, split, rename, dismiss), each
written with its audit event in one transaction."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, delete, select, update

from patrol.events.clustering import BandIndex
from patrol.events.model import (
    ACTIVE, DISMISSED, MERGED, STATUSES, Activity, Event, PostFeatures, event_id_for,
)
from patrol.events.rarity import WordRarity
from patrol.events.schema import opinion_event_bands, opinion_event_posts, opinion_events, opinion_word_df
from patrol.store.chain import AuditChain
from patrol.store.database import Database, findable
from patrol.store.engine import chunks, insert_ignore_stmt, upsert_add_stmt
from patrol.store.records import InvalidFilter, NotFound

MAX_PAGE = 200
E = opinion_events.c
EP = opinion_event_posts.c


@dataclass
class EventFilter:
    since: datetime | None = None        # last seen at or after
    until: datetime | None = None        # first seen at or before
    place: str = ""                      # a division code prefix (province 2, city 4, district 6 digits)
    category: str = ""
    min_size: int = 1
    status: str = ACTIVE
    ids: tuple[str, ...] | None = None   # only these (a watch-list's events)
    limit: int = 50
    offset: int = 0


@dataclass
class BatchWrite:
    """What one ingest batch changes, written in one transaction by `EventStore.write_batch`."""
    events: dict[str, Event] = field(default_factory=dict)
    new_ids: set[str] = field(default_factory=set)
    posts: list[tuple[str, PostFeatures]] = field(default_factory=list)   # (event id, post)
    bands: list[tuple[str, str]] = field(default_factory=list)            # (band key, event id)
    merged: dict[str, str] = field(default_factory=dict)                  # event -> event it joined
    renamed: dict[str, str] = field(default_factory=dict)   # an event new in this batch and merged in it
    rarity: WordRarity | None = None                        # its `added` counts are written

    def final(self, event_id: str) -> str:
        while event_id in self.renamed:
            event_id = self.renamed[event_id]
        return event_id


def event_values(e: Event, now: datetime) -> dict:
    return {"id": e.id, "title": e.title, "renamed": e.renamed, "status": e.status, "merged_into": e.merged_into,
            "first_seen": e.first_seen, "last_seen": e.last_seen, "size": e.size,
            "sources": dict(e.sources), "terms": dict(e.terms), "categories": dict(e.categories),
            "places": dict(e.places), "place_code": e.place.code, "sentiment_sum": e.sentiment_sum,
            "negative": e.negative, "seeds": [list(s) for s in e.seeds], "updated_at": now,
            "trace": list(e.trace)}


def event_from_row(r) -> Event:
    return Event(id=r.id, first_seen=r.first_seen, last_seen=r.last_seen, title=r.title, renamed=r.renamed,
                 status=r.status, merged_into=r.merged_into, size=r.size, sources=Counter(r.sources),
                 terms=Counter(r.terms), categories=Counter(r.categories), places=Counter(r.places),
                 sentiment_sum=r.sentiment_sum, negative=r.negative, seeds=[tuple(s) for s in r.seeds],
                 trace=list(r.trace or []))


def post_values(event_id: str, f: PostFeatures) -> dict:
    return {"post_id": f.post_id, "event_id": event_id, "at": f.at, "source": f.source,
            "sentiment": f.sentiment, "negative": f.negative, "categories": list(f.categories),
            "place_code": f.place.code if f.place.status == "resolved" else "", "words": f.words[:20]}


class EventStore:
    def __init__(self, db: Database):
        self._db = db

    # -- clustering ----------------------------------------------------------------------------

    def load_index(self, band_keys: list[str]) -> tuple[BandIndex, dict[str, Event]]:
        """The events sharing a band with the batch, and their band rows and seeds."""
        index = BandIndex()
        events: dict[str, Event] = {}
        with self._db.read() as conn:
            ids: set[str] = set()
            for chunk in chunks(sorted(set(band_keys)), 500):
                for r in conn.execute(select(opinion_event_bands).where(opinion_event_bands.c.band_key.in_(chunk))):
                    index.bands.setdefault(r.band_key, set()).add(r.event_id)
                    ids.add(r.event_id)
            for chunk in chunks(sorted(ids), 500):
                for r in conn.execute(select(opinion_events).where(E.id.in_(chunk))):
                    e = event_from_row(r)
                    if e.status == MERGED and e.merged_into:
                        index.merged[e.id] = e.merged_into
                        continue
                    events[e.id] = e
                    index.seeds[e.id] = e.seed_signatures()
                    index.seed_words[e.id] = e.seed_word_sets()
                    index.sizes[e.id] = e.size
                    index.places[e.id] = e.place.code
                    index.last_seen[e.id] = e.last_seen
            missing = {index.live(i) for i in index.merged.values()} - set(events)
            for chunk in chunks(sorted(missing), 500):
                for r in conn.execute(select(opinion_events).where(E.id.in_(chunk))):
                    e = event_from_row(r)
                    events[e.id] = e
                    index.seeds[e.id] = e.seed_signatures()
                    index.seed_words[e.id] = e.seed_word_sets()
                    index.sizes[e.id] = e.size
                    index.places[e.id] = e.place.code
                    index.last_seen[e.id] = e.last_seen
        return index, events

    def load_rarity(self, words: set[str]) -> WordRarity:
        """The document frequencies of these words, and the number of posts counted."""
        rarity = WordRarity()
        wanted = sorted({w[:64] for w in words} | {""})
        with self._db.read() as conn:
            for chunk in chunks(wanted, 500):
                for r in conn.execute(select(opinion_word_df).where(opinion_word_df.c.word.in_(chunk))):
                    if r.word == "":
                        rarity.n = r.df
                    else:
                        rarity.df[r.word] = r.df
        return rarity

    def clustered(self, post_ids: list[str]) -> set[str]:
        """Which of these posts are in an event already (an edited post keeps its event)."""
        found: set[str] = set()
        with self._db.read() as conn:
            for chunk in chunks([p for p in post_ids if findable(p)], 500):
                found.update(conn.execute(select(EP.post_id).where(EP.post_id.in_(chunk))).scalars())
        return found

    def write_batch(self, w: BatchWrite, now: datetime) -> None:
        with self._db.write() as conn:
            if w.rarity is not None and w.rarity.added_n:
                counts = [{"word": "", "df": w.rarity.added_n}] + [
                    {"word": word[:64], "df": n} for word, n in sorted(w.rarity.added.items())]
                for chunk in chunks(counts, 500):
                    conn.execute(upsert_add_stmt(conn, opinion_word_df, ["word"], "df"), chunk)
            new = [event_values(e, now) for eid, e in w.events.items() if eid in w.new_ids]
            old = [{**event_values(e, now), "eid": eid} for eid, e in w.events.items() if eid not in w.new_ids]
            for chunk in chunks(new, 500):
                conn.execute(opinion_events.insert(), chunk)
            if old:
                values = {k: bindparam(k) for k in old[0] if k not in ("id", "eid")}
                conn.execute(update(opinion_events).where(E.id == bindparam("eid")).values(values),
                             [{k: v for k, v in row.items() if k != "id"} for row in old])
            for chunk in chunks(w.posts, 500):
                conn.execute(insert_ignore_stmt(conn, opinion_event_posts),
                             [post_values(w.final(eid), f) for eid, f in chunk])
            for chunk in chunks(sorted({(k, w.final(e)) for k, e in w.bands}), 1000):
                conn.execute(insert_ignore_stmt(conn, opinion_event_bands),
                             [{"band_key": k, "event_id": e} for k, e in chunk])
            for gone, into in w.merged.items():
                self._move(conn, gone, into)

    def _move(self, conn, gone: str, into: str) -> None:
        """Point a merged event's posts and bands at the event it went into."""
        conn.execute(update(opinion_event_posts).where(EP.event_id == gone).values(event_id=into))
        for key in conn.execute(select(opinion_event_bands.c.band_key)
                                .where(opinion_event_bands.c.event_id == gone)).scalars().all():
            conn.execute(insert_ignore_stmt(conn, opinion_event_bands).values(band_key=key, event_id=into))
        conn.execute(delete(opinion_event_bands).where(opinion_event_bands.c.event_id == gone))

    # -- reading -------------------------------------------------------------------------------

    def list_events(self, f: EventFilter) -> tuple[list[Event], int]:
        if f.status not in STATUSES + ("all",):
            raise InvalidFilter(f"status must be one of {', '.join(STATUSES + ('all',))}, got {f.status!r}")
        if not 1 <= f.limit <= MAX_PAGE:
            raise InvalidFilter(f"limit must be between 1 and {MAX_PAGE}, got {f.limit}")
        if f.place and not (f.place.isdigit() and len(f.place) in (2, 4, 6)):
            raise InvalidFilter(f"place must be a division code of 2, 4 or 6 digits, got {f.place!r}")
        cond = [E.size >= f.min_size]
        if f.status != "all":
            cond.append(E.status == f.status)
        if f.since:
            cond.append(E.last_seen >= f.since)
        if f.until:
            cond.append(E.first_seen <= f.until)
        if f.place:
            cond.append(E.place_code.startswith(f.place))
        if f.ids is not None:
            cond.append(E.id.in_(list(f.ids) or [""]))
        with self._db.read() as conn:
            rows = conn.execute(select(opinion_events).where(and_(*cond))
                                .order_by(E.last_seen.desc(), E.id)).all()
        events = [event_from_row(r) for r in rows]
        if f.category:
            events = [e for e in events if e.categories.get(f.category)]
        return events[f.offset:f.offset + f.limit], len(events)

    def get_event(self, event_id: str) -> Event:
        with self._db.read() as conn:
            row = conn.execute(select(opinion_events).where(E.id == event_id)).first() if findable(event_id) else None
        if row is None:
            raise NotFound(f"event {event_id!r} not found")
        return event_from_row(row)

    def event_post_rows(self, event_id: str, limit: int = 50, offset: int = 0):
        with self._db.read() as conn:
            return conn.execute(select(opinion_event_posts).where(EP.event_id == event_id)
                                .order_by(EP.at, EP.post_id).limit(limit).offset(offset)).all()

    def timeline(self, event_id: str, hours: int = 72, now: datetime | None = None) -> list[tuple[datetime, int]]:
        """Posts per hour, from the event's first hour (at most `hours` back from its last)."""
        e = self.get_event(event_id)
        end = (now or e.last_seen).replace(minute=0, second=0, microsecond=0)
        start = max(e.first_seen.replace(minute=0, second=0, microsecond=0), end - timedelta(hours=hours - 1))
        counts: Counter = Counter()
        with self._db.read() as conn:
            for (at,) in conn.execute(select(EP.at).where(EP.event_id == event_id, EP.at >= start)):
                counts[at.replace(minute=0, second=0, microsecond=0)] += 1
        out, t = [], start
        while t <= end:
            out.append((t, counts.get(t, 0)))
            t += timedelta(hours=1)
        return out

    def activity(self, event_ids: list[str], now: datetime) -> dict[str, Activity]:
        """Per event: posts in the last hour and day against the hour and day before."""
        raw: dict[str, Counter] = {e: Counter() for e in event_ids}
        since = now - timedelta(hours=48)
        with self._db.read() as conn:
            for chunk in chunks(event_ids, 500):
                for r in conn.execute(select(EP.event_id, EP.at, EP.negative)
                                      .where(EP.event_id.in_(chunk), EP.at >= since)):
                    age = now - r.at
                    c = raw[r.event_id]
                    if age <= timedelta(hours=1):
                        c["last_hour"] += 1
                        c["negative_last_hour"] += int(r.negative)
                    elif age <= timedelta(hours=24):
                        c["before"] += 1
                        c["negative_before"] += int(r.negative)
                    if timedelta(hours=1) < age <= timedelta(hours=2):
                        c["prev_hour"] += 1
                    if age <= timedelta(hours=24):
                        c["last_day"] += 1
                    else:
                        c["prev_day"] += 1
        return {e: Activity(**c) for e, c in raw.items()}

    # -- the officer's changes, audited ---------------------------------------------------------

    def rename(self, event_id: str, title: str, actor: str, now: datetime) -> Event:
        title = (title or "").strip()
        if not title or len(title) > 120:
            raise InvalidFilter("事件名称不能为空，且不超过 120 个字")
        with self._db.write() as conn:
            e = self._locked(conn, event_id)
            old = e.title
            e.title, e.renamed = title, True
            conn.execute(update(opinion_events).where(E.id == event_id).values(event_values(e, now)))
            AuditChain(conn, self._db.audit_key).append(now, actor, "event.renamed", f"event:{event_id}", {"from": old, "to": title})
        return e

    def dismiss(self, event_id: str, reason: str, actor: str, now: datetime) -> Event:
        with self._db.write() as conn:
            e = self._locked(conn, event_id)
            e.status = DISMISSED
            conn.execute(update(opinion_events).where(E.id == event_id).values(event_values(e, now)))
            AuditChain(conn, self._db.audit_key).append(now, actor, "event.dismissed", f"event:{event_id}", {"reason": reason or ""})
        return e

    def merge(self, event_id: str, into: str, actor: str, now: datetime) -> Event:
        if event_id == into:
            raise InvalidFilter("不能把事件合并到它自己")
        with self._db.write() as conn:
            gone, target = self._locked(conn, event_id), self._locked(conn, into)
            if target.status == MERGED:
                raise InvalidFilter(f"事件 {into} 已并入 {target.merged_into}，请合并到那个事件")
            self._move(conn, event_id, into)
            target = self._rebuilt(conn, target)
            target.seeds = (target.seeds + gone.seeds)[:16]
            target.trace.append({"at": now.isoformat(), "by": actor, "action": "merged_in", "other": event_id})
            gone.trace.append({"at": now.isoformat(), "by": actor, "action": "merged_into", "other": into})
            gone.status, gone.merged_into = MERGED, into
            conn.execute(update(opinion_events).where(E.id == into).values(event_values(target, now)))
            conn.execute(update(opinion_events).where(E.id == event_id).values(event_values(gone, now)))
            AuditChain(conn, self._db.audit_key).append(now, actor, "event.merged", f"event:{event_id}", {"into": into})
        return target

    def split(self, event_id: str, post_ids: list[str], actor: str, now: datetime,
              auto: dict | None = None) -> Event:
        """Move these posts of the event into a new event of their own; returns the new event.
        `auto`: an automatic split (patrol/events/drift.py) and its figures, audited as
        `event.auto_split` instead of `event.split`."""
        post_ids = sorted({p for p in post_ids if findable(p)})
        if not post_ids:
            raise InvalidFilter("拆分需要至少一个帖子编号")
        with self._db.write() as conn:
            source = self._locked(conn, event_id)
            inside = set(conn.execute(select(EP.post_id).where(EP.event_id == event_id,
                                                                EP.post_id.in_(post_ids))).scalars())
            if set(post_ids) - inside:
                raise InvalidFilter(f"这些帖子不在事件 {event_id} 里：{', '.join(sorted(set(post_ids) - inside))}")
            if len(inside) == source.size:
                raise InvalidFilter("不能把事件的全部帖子拆走；要改名请用重命名")
            new_id = event_id_for(post_ids[0] + "\x1fsplit\x1f" + event_id)
            conn.execute(update(opinion_event_posts).where(EP.post_id.in_(post_ids)).values(event_id=new_id))
            moved = set(post_ids)
            seeds_kept = [s for s in source.seeds if s[0] not in moved]
            seeds_moved = [s for s in source.seeds if s[0] in moved]
            source = self._rebuilt(conn, source)
            source.seeds = seeds_kept or source.seeds
            fresh = self._rebuilt(conn, Event(id=new_id, first_seen=now, last_seen=now))
            # No seed moved (seeds are an event's first posts): the moved posts' first few become
            # the new event's seeds, signed from their kept words, so later reports can find it.
            fresh.seeds = seeds_moved or self._seeds_from_words(conn, post_ids)
            seeds_moved = fresh.seeds
            fresh.title = f"{source.title}（{'自动拆分' if auto else '拆分'}）"[:120]
            fresh.renamed = True
            action = "auto_split" if auto else "split"
            source.trace.append({"at": now.isoformat(), "by": actor, "action": action, "other": new_id,
                                 "posts": len(post_ids), **(auto or {})})
            fresh.trace = [{"at": now.isoformat(), "by": actor, "action": action + "_from", "other": event_id,
                            "posts": len(post_ids), **(auto or {})}]
            conn.execute(update(opinion_events).where(E.id == event_id).values(event_values(source, now)))
            conn.execute(opinion_events.insert().values(event_values(fresh, now)))
            # The moved seeds' bands now lead to the new event.
            from nlp.minhash import band_keys
            import numpy as np
            for _pid, hexsig, *_words in seeds_moved:
                sig = np.frombuffer(bytes.fromhex(hexsig), dtype=np.uint32)
                for key in band_keys(sig):
                    conn.execute(insert_ignore_stmt(conn, opinion_event_bands).values(band_key=key, event_id=new_id))
            AuditChain(conn, self._db.audit_key).append(
                now, actor, "event.auto_split" if auto else "event.split", f"event:{event_id}",
                {"new_event": new_id, "post_ids": post_ids, **(auto or {})})
        return fresh

    @staticmethod
    def _seeds_from_words(conn, post_ids: list[str]) -> list[tuple]:
        from nlp.minhash import signature

        rows = conn.execute(select(EP.post_id, EP.words).where(EP.post_id.in_(post_ids))
                            .order_by(EP.at, EP.post_id)).all()
        seeds = []
        for r in rows:
            sig = signature(r.words)
            if sig is not None:
                seeds.append((r.post_id, sig.tobytes().hex(), " ".join(sorted(set(r.words)))))
            if len(seeds) >= 8:
                break
        return seeds

    def _locked(self, conn, event_id: str) -> Event:
        row = (conn.execute(select(opinion_events).where(E.id == event_id).with_for_update()).first()
               if findable(event_id) else None)
        if row is None:
            raise NotFound(f"event {event_id!r} not found")
        return event_from_row(row)

    def _rebuilt(self, conn, e: Event) -> Event:
        """The event's counts recomputed from its posts (after a merge or split)."""
        rows = conn.execute(select(opinion_event_posts).where(EP.event_id == e.id)).all()
        fresh = Event(id=e.id, first_seen=min((r.at for r in rows), default=e.first_seen),
                      last_seen=max((r.at for r in rows), default=e.last_seen), title=e.title,
                      renamed=e.renamed, status=e.status, seeds=list(e.seeds), trace=list(e.trace))
        for r in rows:
            fresh.size += 1
            fresh.sources[r.source] += 1
            fresh.terms.update(set(r.words))
            fresh.categories.update(c for c in r.categories if c != "none")
            if r.place_code:
                fresh.places[r.place_code] += 1
            fresh.sentiment_sum += r.sentiment
            fresh.negative += int(r.negative)
        return fresh

    def events_matching(self, terms: tuple[str, ...]) -> list[str]:
        """Ids of events whose title or top terms contain one of `terms` (a watch-list's filter)."""
        with self._db.read() as conn:
            rows = conn.execute(select(E.id, E.title, E.terms).where(E.status != MERGED)).all()
        return [r.id for r in rows if any(t in r.title or any(t in w for w in r.terms) for t in terms)]


