"""The figures behind the dashboard and the shift handover (交接班): counted in the database with
GROUP BY over indexed columns, so a page stays fast at 100,000 alerts (bench/pages_bench.py)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, literal_column, or_, select
from sqlalchemy.engine import Connection

from patrol.alerts import ACTIVE_STATUSES, CLAIMED, ESCALATED, OPEN
from patrol.store.database import Database
from patrol.store.rows import alert_from_row
from patrol.store.schema import alerts, source_health

# Queue-age buckets (upper bounds) the dashboard shows for the active alerts.
AGE_BUCKETS = ((timedelta(minutes=15), "<15分钟"), (timedelta(hours=1), "15分钟–1小时"),
               (timedelta(hours=4), "1–4小时"), (timedelta(days=1), "4–24小时"), (None, ">1天"))


def _day(conn: Connection, column):
    """The UTC calendar day of a timestamp column, as 'YYYY-MM-DD', in the database's dialect."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    # SQLAlchemy keeps SQLite times as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text: the day is its first
    # ten characters, read from the covering index far faster than strftime() parses them.
    return func.substr(column, 1, 10)


class ReportRepository:
    def __init__(self, db: Database):
        self._db = db

    def dashboard(self, now: datetime, days: int = 14) -> dict:
        since = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        with self._db.read() as conn:
            day = _day(conn, alerts.c.opened_at)
            per_day = conn.execute(select(day.label("day"), alerts.c.category, func.count().label("n"))
                                   .where(alerts.c.opened_at >= since, alerts.c.group_id.is_(None))
                                   .group_by(literal_column("day"), alerts.c.category)).all()
            # One count per bucket, each a range of the covering index ix_alerts_status_opened.
            ages = [(label, conn.execute(select(func.count()).select_from(alerts).where(
                alerts.c.status.in_(ACTIVE_STATUSES), alerts.c.group_id.is_(None), *_age_range(now, i))).scalar_one())
                for i, (_, label) in enumerate(AGE_BUCKETS)]
            dday = _day(conn, alerts.c.decided_at)
            throughput = conn.execute(select(dday.label("day"), alerts.c.decided_by, func.count().label("n"))
                                      .where(alerts.c.decided_at >= since, alerts.c.decided_by.is_not(None))
                                      .group_by(literal_column("day"), alerts.c.decided_by)).all()
            sources = conn.execute(select(source_health).order_by(source_health.c.source)).all()
        days_list = [(since + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days)]
        return {
            "days": days_list,
            "per_category": _series(per_day, "category", days_list),
            "queue_age": ages,
            "throughput": _series(throughput, "decided_by", days_list),
            "sources": [_source_row(s, now) for s in sources],
        }

    def source_gaps(self, now: datetime) -> list[dict]:
        with self._db.read() as conn:
            return [_source_row(s, now) for s in conn.execute(select(source_health).order_by(source_health.c.source))]

    def handover(self, start: datetime, end: datetime, now: datetime) -> dict:
        active = and_(alerts.c.status.in_(ACTIVE_STATUSES), alerts.c.group_id.is_(None))
        with self._db.read() as conn:
            def count(*conds) -> int:
                return conn.execute(select(func.count()).select_from(alerts).where(*conds)).scalar_one()

            claimed = conn.execute(select(alerts.c.assignee, func.count().label("n")).where(
                alerts.c.status == CLAIMED, alerts.c.group_id.is_(None)).group_by(alerts.c.assignee)).all()
            decisions = conn.execute(select(alerts.c.decided_by, alerts.c.decision, func.count().label("n")).where(
                alerts.c.decided_at >= start, alerts.c.decided_at < end, alerts.c.decided_by.is_not(None))
                .group_by(alerts.c.decided_by, alerts.c.decision)).all()
            # Per status, each read in the order of ix_alerts_status_due (most severe, then most
            # overdue) and cut at 50, then merged: no sort of every overdue alert.
            overdue = sorted((r for status in ACTIVE_STATUSES for r in conn.execute(
                select(alerts).where(alerts.c.status == status, alerts.c.group_id.is_(None), alerts.c.due_at < now)
                .order_by(alerts.c.severity_rank, alerts.c.due_at).limit(50))),
                key=lambda r: (r.severity_rank, r.due_at))[:50]
            escalated = conn.execute(select(alerts).where(alerts.c.status == ESCALATED, alerts.c.group_id.is_(None))
                                     .order_by(alerts.c.severity_rank, alerts.c.due_at).limit(50)).all()
            outages = conn.execute(select(alerts).where(
                alerts.c.post_id.is_(None), alerts.c.opened_at < end,
                or_(alerts.c.opened_at >= start, alerts.c.status.in_(ACTIVE_STATUSES)))
                .order_by(alerts.c.opened_at)).all()
            sources = conn.execute(select(source_health).order_by(source_health.c.source)).all()
            summary = {
                "open": count(alerts.c.status == OPEN, alerts.c.group_id.is_(None)),
                "claimed": sum(r.n for r in claimed),
                "overdue": count(active, alerts.c.due_at < now),
                "escalated": count(alerts.c.status == ESCALATED, alerts.c.group_id.is_(None)),
                "opened_in_shift": count(alerts.c.opened_at >= start, alerts.c.opened_at < end),
            }
        per_officer: dict[str, dict[str, int]] = {}
        for r in decisions:
            per_officer.setdefault(r.decided_by, {})[r.decision] = r.n
        return {
            "summary": summary,
            "claimed_by": [(r.assignee, r.n) for r in claimed],
            "decisions": sorted(per_officer.items()),
            "overdue": [alert_from_row(r) for r in overdue], "escalated": [alert_from_row(r) for r in escalated],
            "outages": [alert_from_row(r) for r in outages],
            "sources": [s for s in (_source_row(s, now) for s in sources) if s["gap"]],
        }


def _age_range(now: datetime, i: int) -> list:
    """The conditions on opened_at that put an active alert in age bucket i."""
    bound, lower = AGE_BUCKETS[i][0], (AGE_BUCKETS[i - 1][0] if i else None)
    conds = []
    if bound is not None:
        conds.append(alerts.c.opened_at > now - bound)
    if lower is not None:
        conds.append(alerts.c.opened_at <= now - lower)
    return conds


def _series(rows, key: str, days: list[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    index = {d: i for i, d in enumerate(days)}
    for r in rows:
        if r.day in index:
            out.setdefault(getattr(r, key), [0] * len(days))[index[r.day]] += r.n
    return dict(sorted(out.items()))


def _source_row(s, now: datetime) -> dict:
    """A source's health, with its collection gap: the time since its last successful pass, a
    gap when passes fail or come back empty."""
    since_success = (now - s.last_success_at) if s.last_success_at else None
    gap = bool(s.consecutive_failed or s.consecutive_empty or s.last_success_at is None)
    return {"source": s.source, "last_pass_at": s.last_pass_at, "last_success_at": s.last_success_at,
            "since_success_minutes": int(since_success.total_seconds() // 60) if since_success else None,
            "consecutive_failed": s.consecutive_failed, "consecutive_empty": s.consecutive_empty,
            "passes": s.passes, "gap": gap}
