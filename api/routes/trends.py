"""Public-opinion views: GET /api/events (filters: time, place, category, size, growth, watch-list),
GET /api/events/{id} (timeline, sources, posts), the officer's changes to an event (rename,
dismiss, merge, split; audited), GET /api/trends (series per term, category or place) and
GET /api/bursts. Computed by api.services.events and api.services.trends over patrol/events."""
from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Query

from api.deps import Caller, READERS_DEP, REVIEWERS_DEP, as_utc, now, services
from api.opinion_schemas import (
    BurstOut, DismissIn, EventDetailOut, EventOut, EventPageOut, MergeIn, RenameIn, SplitIn, TrendsOut,
)
from api.services import events as event_service
from api.services import trends as trend_service

router = APIRouter(prefix="/api", tags=["events"])


@router.get("/events", response_model=EventPageOut, summary="Events: posts about one incident, across sources")
def events(since: datetime | None = Query(None, description="last seen at or after"),
           until: datetime | None = Query(None, description="first seen at or before"),
           place: str = Query("", max_length=6, description="division code prefix: 2, 4 or 6 digits"),
           category: str = Query("", max_length=40), min_size: int = Query(2, ge=1, le=1_000_000),
           min_growth: float = Query(0.0, ge=0, le=1e6), status: str = Query("active", max_length=16),
           watchlist: str = Query("", max_length=40), limit: int = Query(50, ge=1, le=200),
           offset: int = Query(0, ge=0, le=1_000_000),
           caller: Caller = READERS_DEP, svc=Depends(services)) -> EventPageOut:
    return event_service.list_events(svc, now(), since=as_utc(since), until=as_utc(until), place=place,
                                     category=category, min_size=min_size, min_growth=min_growth, status=status,
                                     watchlist=watchlist, limit=limit, offset=offset)


@router.get("/events/{event_id}", response_model=EventDetailOut, summary="One event: timeline, sources, posts")
def event(event_id: str, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=1_000_000),
          hours: int = Query(72, ge=1, le=24 * 30), caller: Caller = READERS_DEP,
          svc=Depends(services)) -> EventDetailOut:
    return event_service.event_detail(svc, event_id, now(), limit, offset, hours)


@router.post("/events/{event_id}/rename", response_model=EventOut, summary="Rename an event (audited)")
def rename(event_id: str, body: RenameIn, caller: Caller = REVIEWERS_DEP, svc=Depends(services)) -> EventOut:
    return event_service.rename(svc, caller.username, event_id, body.title, now())


@router.post("/events/{event_id}/dismiss", response_model=EventOut, summary="Dismiss an event (audited)")
def dismiss(event_id: str, body: DismissIn, caller: Caller = REVIEWERS_DEP, svc=Depends(services)) -> EventOut:
    return event_service.dismiss(svc, caller.username, event_id, body.reason, now())


@router.post("/events/{event_id}/merge", response_model=EventOut, summary="Merge an event into another (audited)")
def merge(event_id: str, body: MergeIn, caller: Caller = REVIEWERS_DEP, svc=Depends(services)) -> EventOut:
    return event_service.merge(svc, caller.username, event_id, body.into, now())


@router.post("/events/{event_id}/split", response_model=EventOut, summary="Split posts off into a new event (audited)")
def split(event_id: str, body: SplitIn, caller: Caller = REVIEWERS_DEP, svc=Depends(services)) -> EventOut:
    return event_service.split(svc, caller.username, event_id, body.post_ids, now())


@router.get("/trends", response_model=TrendsOut, summary="Posts per hour per term, category or place")
def trends(kind: str = Query("category", max_length=16), key: str = Query("", max_length=100),
           hours: int = Query(48, ge=1, le=24 * 30), limit: int = Query(20, ge=1, le=200),
           offset: int = Query(0, ge=0, le=100_000), caller: Caller = READERS_DEP,
           svc=Depends(services)) -> TrendsOut:
    return trend_service.trends(svc, now(), kind, hours, key, limit, offset)


@router.get("/bursts", response_model=list[BurstOut], summary="Bursts that raised a trend alert")
def bursts(hours: int = Query(24, ge=1, le=24 * 30), caller: Caller = READERS_DEP,
           svc=Depends(services)) -> list[BurstOut]:
    return trend_service.bursts(svc, now() - timedelta(hours=hours))
