"""The summary counts the API's metrics report: one short read.

"alerts" and its breakdowns count cases, as the queue does: a lead with its members is one alert
(its group_size says how many posts), and "alert_group_members" says how many alerts were folded
into a lead, so alerts + alert_group_members is every alert row."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select

from patrol.alerts import ACTIVE_STATUSES
from patrol.store.database import Database
from patrol.store.schema import alerts, audit_head, posts


def counts(db: Database, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(timezone.utc)
    is_case = alerts.c.group_id.is_(None)  # a lead or an ungrouped alert
    with db.read() as conn:
        def grouped(col) -> dict[str, int]:
            return {k: n for k, n in conn.execute(select(col, func.count()).where(is_case).group_by(col))}
        return {
            "posts": conn.execute(select(func.count()).select_from(posts)).scalar_one(),
            "posts_unindexed": conn.execute(select(func.count()).select_from(posts)
                                            .where(posts.c.indexed.is_(False))).scalar_one(),
            "alerts": conn.execute(select(func.count()).select_from(alerts).where(is_case)).scalar_one(),
            "alert_group_members": conn.execute(select(func.count()).select_from(alerts)
                                                .where(alerts.c.group_id.is_not(None))).scalar_one(),
            "alerts_by_status": grouped(alerts.c.status),
            "alerts_by_category": grouped(alerts.c.category),
            "alerts_overdue": conn.execute(select(func.count()).select_from(alerts).where(
                is_case, alerts.c.status.in_(ACTIVE_STATUSES), alerts.c.due_at < now)).scalar_one(),
            "audit_events": conn.execute(select(audit_head.c.seq).where(audit_head.c.id == 1)).scalar_one(),
        }
