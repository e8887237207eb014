"""Public-opinion views over what was collected, computed from real data on each request:
per-day post counts by category from the index's facets, top terms and bursts from the alerts
in the store."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from api.schemas import DayCounts, EventOut, EventsOut, TermCount, TrendsOut
from patrol.store import AlertFilter
from patrol.taxonomy import SEVERITY_RANK
from search.index import SearchQuery

# A window's alerts are read page by page up to this many; beyond it the views say "at least".
MAX_ALERTS_SCANNED = 5000


def day_counts(svc, days: int, today: datetime) -> list[DayCounts]:
    start = today.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    out = []
    for i in range(days):
        lo = start + timedelta(days=i)
        # published_to is exclusive of the next midnight; a microsecond short keeps days disjoint
        # whichever way the index treats its upper bound.
        result = svc.index.search(SearchQuery(q="", published_from=lo,
                                              published_to=lo + timedelta(days=1) - timedelta(microseconds=1),
                                              limit=1, highlight=False, facets=True))
        out.append(DayCounts(day=lo.date().isoformat(), total=result.total,
                             by_category=dict(result.facets.get("category", {}))))
    return out


def recent_alerts(svc, since: datetime):
    cursor = None
    seen = 0
    while seen < MAX_ALERTS_SCANNED:
        page = svc.store.list_alerts(AlertFilter(opened_from=since, sort="newest", limit=500, cursor=cursor))
        yield from page.items
        seen += len(page.items)
        cursor = page.next_cursor
        if not cursor:
            return


def top_terms(alerts, limit: int) -> list[TermCount]:
    counts: Counter[tuple[str, str]] = Counter()
    for a in alerts:
        # One alert counts a term once: a post repeating a word twenty times is not twenty posts.
        terms = {(e.get("term", ""), e.get("category", "")) for e in (a.analysis or {}).get("evidence", ())}
        counts.update(t for t in terms if t[0])
    return [TermCount(term=t, category=c, count=n) for (t, c), n in counts.most_common(limit)]


def trends(svc, days: int, terms: int, at: datetime) -> TrendsOut:
    window = 24
    return TrendsOut(days=day_counts(svc, days, at),
                     top_terms=top_terms(recent_alerts(svc, at - timedelta(hours=window)), terms),
                     top_terms_window_hours=window)


def events(svc, hours: int, min_count: int, at: datetime) -> EventsOut:
    """Bursts: alerts of one category from one source in the window, largest first."""
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for a in recent_alerts(svc, at - timedelta(hours=hours)):
        groups[(a.category, a.source)].append(a)
    out = []
    for (category, source), items in groups.items():
        if len(items) < min_count:
            continue
        items.sort(key=lambda a: a.opened_at, reverse=True)
        out.append(EventOut(
            category=category, source=source, count=len(items),
            first_opened_at=items[-1].opened_at, last_opened_at=items[0].opened_at,
            max_severity=min((a.severity for a in items), key=lambda s: SEVERITY_RANK.get(s, 99)),
            alert_ids=[a.id for a in items[:10]],
        ))
    out.sort(key=lambda e: (-e.count, SEVERITY_RANK.get(e.max_severity, 99), e.category, e.source))
    return EventsOut(window_hours=hours, events=out)
