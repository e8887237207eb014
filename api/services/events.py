"""Events: the list with its filters, one event with its timeline and posts, and the officer's
changes (each audited by the store, in the same transaction)."""
from __future__ import annotations

from datetime import datetime

from api.opinion_schemas import EventDetailOut, EventOut, EventPageOut, EventPostOut, PlaceOut, TimelinePoint
from nlp.minhash import top_terms
from patrol.events.model import Activity, Event
from patrol.events.store import EventFilter
from patrol.store import InvalidFilter

REPRESENTATIVES = 3


def event_out(e: Event, a: Activity) -> EventOut:
    return EventOut(
        id=e.id, title=e.title, status=e.status, merged_into=e.merged_into, first_seen=e.first_seen,
        last_seen=e.last_seen, size=e.size, sources=dict(e.sources.most_common()), top_terms=top_terms(e.terms, 10),
        categories=dict(e.categories.most_common()), place=PlaceOut(**e.place.to_dict()), sentiment=e.sentiment,
        negative_posts=e.negative, posts_last_hour=a.last_hour, posts_last_day=a.last_day,
        growth_hour=a.growth_hour, growth_day=a.growth_day, negative_surge=a.negative_surge,
        growth_score=a.growth_score, trace=list(e.trace))


def list_events(svc, at: datetime, *, since=None, until=None, place="", category="", min_size=1,
                min_growth=0.0, status="active", watchlist="", limit=50, offset=0) -> EventPageOut:
    store = svc.store
    ids = None
    if watchlist:
        ids = tuple(store.events.events_matching(_watchlist_terms(svc, watchlist)))
    if min_growth:
        # Growth is read at request time; a growth filter reads every matching event's activity.
        events, _n = store.events.list_events(EventFilter(since=since, until=until, place=place, category=category,
                                                          min_size=min_size, status=status, ids=ids, limit=200))
        act = store.events.activity([e.id for e in events], at)
        kept = [e for e in events if act[e.id].growth_score >= min_growth]
        kept.sort(key=lambda e: (-act[e.id].growth_score, e.id))
        page = kept[offset:offset + limit]
        return EventPageOut(items=[event_out(e, act[e.id]) for e in page], total=len(kept),
                            next_offset=offset + limit if offset + limit < len(kept) else None)
    events, total = store.events.list_events(EventFilter(since=since, until=until, place=place, category=category,
                                                         min_size=min_size, status=status, ids=ids,
                                                         limit=limit, offset=offset))
    act = store.events.activity([e.id for e in events], at)
    return EventPageOut(items=[event_out(e, act[e.id]) for e in events], total=total,
                        next_offset=offset + limit if offset + limit < total else None)


def _watchlist_terms(svc, list_id: str) -> tuple[str, ...]:
    from patrol.events.watchlists import SAFETY_ID, safety_watch

    from patrol.store import NotFound

    if list_id == SAFETY_ID:
        return safety_watch().terms
    try:
        return svc.store.trends.get_watchlist(list_id).terms
    except NotFound as exc:  # a filter with an unknown value is a bad filter (400), not a missing page
        raise InvalidFilter(f"watchlist: no watch-list {list_id!r}") from exc


def _posts_out(svc, rows) -> list[EventPostOut]:
    posts = {p.id: p for p in svc.store.get_posts([r.post_id for r in rows])}
    out = []
    for r in rows:
        p = posts.get(r.post_id)
        out.append(EventPostOut(post_id=r.post_id, at=r.at, source=r.source, title=p.title if p else "",
                                text=(p.text if p else "")[:500], url=p.url if p else "", sentiment=r.sentiment,
                                categories=list(r.categories), place_code=r.place_code))
    return out


def event_detail(svc, event_id: str, at: datetime, limit: int = 50, offset: int = 0,
                 hours: int = 72) -> EventDetailOut:
    e = svc.store.events.get_event(event_id)
    act = svc.store.events.activity([e.id], at)[e.id]
    rows = svc.store.events.event_post_rows(e.id, limit, offset)
    seed_ids = [s[0] for s in e.seeds[:REPRESENTATIVES]]
    seed_rows = [r for r in svc.store.events.event_post_rows(e.id, limit=500) if r.post_id in seed_ids]
    return EventDetailOut(
        event=event_out(e, act),
        timeline=[TimelinePoint(hour=h, count=n) for h, n in svc.store.events.timeline(e.id, hours, at)],
        representative_posts=_posts_out(svc, seed_rows), posts=_posts_out(svc, rows),
        next_offset=offset + limit if offset + limit < e.size else None)


def rename(svc, actor: str, event_id: str, title: str, at: datetime) -> EventOut:
    e = svc.store.events.rename(event_id, title, actor, at)
    return event_out(e, svc.store.events.activity([e.id], at)[e.id])


def dismiss(svc, actor: str, event_id: str, reason: str, at: datetime) -> EventOut:
    e = svc.store.events.dismiss(event_id, reason, actor, at)
    return event_out(e, svc.store.events.activity([e.id], at)[e.id])


def merge(svc, actor: str, event_id: str, into: str, at: datetime) -> EventOut:
    e = svc.store.events.merge(event_id, into, actor, at)
    return event_out(e, svc.store.events.activity([e.id], at)[e.id])


def split(svc, actor: str, event_id: str, post_ids: list[str], at: datetime) -> EventOut:
    if len(post_ids) > 500:
        raise InvalidFilter("一次最多拆分 500 个帖子")
    e = svc.store.events.split(event_id, post_ids, actor, at)
    return event_out(e, svc.store.events.activity([e.id], at)[e.id])
