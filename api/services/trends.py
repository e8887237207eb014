"""Trends: posts per hour per key (a watch-list term, a harm category, a place), busiest keys
first, and the bursts that raised `ops_trend` alerts."""
from __future__ import annotations

from datetime import datetime, timedelta

from api.opinion_schemas import BurstOut, SeriesOut, TimelinePoint, TrendsOut
from nlp.gazetteer import default_gazetteer
from patrol.events.bursts import CATEGORY, KINDS, PLACE, window_start
from patrol.store import InvalidFilter
from patrol.taxonomy import LABEL_ZH


def key_label(kind: str, key: str) -> str:
    if kind == PLACE:
        return default_gazetteer().place_of(key).label
    if kind == CATEGORY:
        return LABEL_ZH.get(key, key)
    return key.split(":", 1)[-1]


def trends(svc, at: datetime, kind: str = CATEGORY, hours: int = 48, key: str = "", limit: int = 20,
           offset: int = 0) -> TrendsOut:
    if kind not in KINDS:
        raise InvalidFilter(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    end = window_start(at)
    start = end - timedelta(hours=hours - 1)
    if key:
        keys, total = [(key, 0)], 1
    else:
        keys, total = svc.store.trends.top_keys(kind, start, limit, offset)
    items = []
    for k, _n in keys:
        series = svc.store.trends.series(kind, k, start, end)
        items.append(SeriesOut(kind=kind, key=k, label=key_label(kind, k), total=sum(n for _h, n in series),
                               series=[TimelinePoint(hour=h, count=n) for h, n in series]))
    return TrendsOut(kind=kind, hours=hours, items=items, total=total,
                     next_offset=offset + limit if not key and offset + limit < total else None)


def bursts(svc, since: datetime, until: datetime | None = None) -> list[BurstOut]:
    return [BurstOut(kind=b.kind, key=b.key, label=b.label, window_start=b.window_start, current=b.current,
                     expected=b.expected, alert_id=b.alert_id) for b in svc.store.trends.bursts(since, until)]
