"""The daily report's figures (日报): alerts by category and place, the top events with their
timelines, the bursts, and source health, for one UTC day. Pure reads over the store; rendering
(HTML, PDF) is app/daily_report.py's."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from nlp.gazetteer import default_gazetteer
from nlp.minhash import top_terms
from patrol.events.store import EventFilter
from patrol.store import AlertFilter
from patrol.taxonomy import LABEL_ZH

TOP_EVENTS = 10


@dataclass
class DailyFigures:
    day: date
    start: datetime
    end: datetime
    alerts_total: int = 0
    alerts_by_category: list[tuple[str, int]] = field(default_factory=list)
    alerts_by_place: list[tuple[str, int]] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    bursts: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)


def daily_figures(store, day: date) -> DailyFigures:
    start = datetime.combine(day, time(0), tzinfo=timezone.utc)
    end = start + timedelta(days=1)
    fig = DailyFigures(day=day, start=start, end=end)
    by_cat: Counter = Counter()
    post_ids = []
    cursor = None
    while True:
        page = store.list_alerts(AlertFilter(opened_from=start, opened_to=end, sort="oldest", limit=500, cursor=cursor))
        for a in page.items:
            by_cat[a.category] += 1
            if a.post_id:
                post_ids.append(a.post_id)
        cursor = page.next_cursor
        if not cursor:
            break
    fig.alerts_total = sum(by_cat.values())
    fig.alerts_by_category = [(LABEL_ZH.get(c, c), n) for c, n in by_cat.most_common()]
    gaz = default_gazetteer()
    by_place: Counter = Counter()
    for p in store.get_posts(post_ids):
        place = gaz.resolve(p.title + p.text)
        by_place[place.province if place.status == "resolved" else "未知"] += 1
    fig.alerts_by_place = by_place.most_common()
    events, _n = store.events.list_events(EventFilter(since=start, until=end, min_size=2, limit=200))
    events.sort(key=lambda e: (-e.size, e.id))
    for e in events[:TOP_EVENTS]:
        timeline = [n for _h, n in store.events.timeline(e.id, hours=24, now=min(end - timedelta(hours=1), e.last_seen))]
        fig.events.append({"title": e.title, "size": e.size, "place": e.place.label, "sources": len(e.sources),
                           "first_seen": e.first_seen, "last_seen": e.last_seen, "terms": top_terms(e.terms, 6),
                           "sentiment": e.sentiment, "timeline": timeline,
                           "categories": [LABEL_ZH.get(c, c) for c, _ in e.categories.most_common(3)]})
    fig.bursts = [{"label": b.label, "at": b.window_start, "current": b.current, "expected": b.expected}
                  for b in store.trends.bursts(start, end)]
    fig.sources = [{"source": h.source, "last_pass_at": h.last_pass_at, "items": h.items_last_pass,
                    "consecutive_empty": h.consecutive_empty, "consecutive_failed": h.consecutive_failed}
                   for h in store.source_health()]
    return fig
