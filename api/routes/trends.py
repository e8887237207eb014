"""GET /api/trends and GET /api/events: public-opinion views over what was collected
(computed by api.services.trends)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from api.deps import Caller, READERS_DEP, now, services
from api.schemas import EventsOut, TrendsOut
from api.services import trends as trend_service

router = APIRouter(prefix="/api", tags=["trends"])


@router.get("/trends", response_model=TrendsOut, summary="Posts per category per day; top terms of the last 24 h")
def trends(days: int = Query(14, ge=1, le=90), terms: int = Query(20, ge=1, le=200),
           caller: Caller = READERS_DEP, svc=Depends(services)) -> TrendsOut:
    return trend_service.trends(svc, days, terms, now())


@router.get("/events", response_model=EventsOut, summary="Bursts: alerts grouped by category and source")
def events(hours: int = Query(24, ge=1, le=24 * 30), min_count: int = Query(2, ge=1, le=1000),
           caller: Caller = READERS_DEP, svc=Depends(services)) -> EventsOut:
    return trend_service.events(svc, hours, min_count, now())
