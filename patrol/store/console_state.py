"""The console's working state beside the alerts: passed deadlines noticed once, notifications to
users, when each user was last seen, and saved queue views."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from patrol.alerts import ACTIVE_STATUSES
from patrol.deadlines import DEADLINE_PASSED, Breach, notification_text
from patrol.posts import text_problem
from patrol.store.chain import AuditChain
from patrol.store.database import SYSTEM_ACTOR, Database, findable
from patrol.store.engine import insert_ignore, insert_ignore_stmt
from patrol.store.records import InvalidFilter
from patrol.store.schema import alerts, console_presence, deadline_breaches, notifications, saved_views, users
from patrol.users import SUPERVISOR

MAX_VIEWS = 30
MAX_VIEW_NAME = 40
MAX_VIEW_QUERY = 2000


class ConsoleStateRepository:
    def __init__(self, db: Database):
        self._db = db

    # -- passed deadlines ----------------------------------------------------------------

    def notify_passed_deadlines(self, now: datetime, categories: Sequence[str], on_shift_since: datetime,
                                limit: int = 200) -> list[Breach]:
        """Notice the active alerts of `categories` whose deadline passed and that no process
        noticed before: tell the supervisors seen since `on_shift_since` (all active supervisors
        when none was), and audit each breach. Returns the breaches noticed now."""
        pending = (select(alerts.c.id).where(
            alerts.c.category.in_(tuple(categories)), alerts.c.status.in_(ACTIVE_STATUSES), alerts.c.due_at < now,
            alerts.c.id.not_in(select(deadline_breaches.c.alert_id))).limit(limit))
        with self._db.read() as conn:
            if not conn.execute(pending).first():
                return []  # the usual case: no write lock taken
        noticed: list[Breach] = []
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            told, on_shift = _supervisors_on_shift(conn, on_shift_since)
            rows = conn.execute(select(alerts.c.id, alerts.c.category, alerts.c.due_at, alerts.c.title,
                                       alerts.c.text).where(alerts.c.id.in_(pending)).order_by(alerts.c.due_at)).all()
            for r in rows:
                if insert_ignore(conn, deadline_breaches, {"alert_id": r.id, "category": r.category, "due_at": r.due_at,
                                                           "noticed_at": now, "notified": list(told)}) != 1:
                    continue
                text_ = notification_text(r.category, r.due_at, now, r.title or r.text)
                if told:
                    conn.execute(insert_ignore_stmt(conn, notifications), [
                        {"user": name, "alert_id": r.id, "kind": DEADLINE_PASSED, "text": text_, "created_at": now}
                        for name in told])
                breach = Breach(r.id, r.category, r.due_at, now, told, on_shift)
                chain.append(now, SYSTEM_ACTOR, "alert.deadline_passed", f"alert:{r.id}", {
                    "category": r.category, "due_at": r.due_at.isoformat(),
                    "overdue_seconds": int(breach.overdue_by.total_seconds()),
                    "notified": list(told), "on_shift": on_shift})
                noticed.append(breach)
        return noticed

    # -- notifications -------------------------------------------------------------------

    def notifications_for(self, user: str, after_id: int = 0, limit: int = 50) -> list[dict]:
        if not findable(user):
            return []
        with self._db.read() as conn:
            rows = conn.execute(select(notifications).where(notifications.c.user == user,
                                                            notifications.c.id > after_id)
                                .order_by(notifications.c.id).limit(limit)).all()
        return [{"id": r.id, "alert_id": r.alert_id, "kind": r.kind, "text": r.text,
                 "created_at": r.created_at.isoformat(), "read": r.read_at is not None} for r in rows]

    # -- presence ------------------------------------------------------------------------

    def touch_presence(self, user: str, now: datetime) -> None:
        with self._db.write() as conn:
            if conn.execute(update(console_presence).where(console_presence.c.user == user)
                            .values(last_seen_at=now)).rowcount == 0:
                insert_ignore(conn, console_presence, {"user": user, "last_seen_at": now})

    # -- saved views ---------------------------------------------------------------------

    def saved_views(self, user: str) -> list[tuple[str, str]]:
        if not findable(user):
            return []
        with self._db.read() as conn:
            return [(r.name, r.query) for r in conn.execute(
                select(saved_views.c.name, saved_views.c.query).where(saved_views.c.user == user)
                .order_by(saved_views.c.name))]

    def save_view(self, user: str, name: str, query: str, now: datetime) -> None:
        name = (name or "").strip()
        if not name or len(name) > MAX_VIEW_NAME or text_problem(name):
            raise InvalidFilter(f"view name must be 1 to {MAX_VIEW_NAME} printable characters")
        if len(query) > MAX_VIEW_QUERY or text_problem(query):
            raise InvalidFilter(f"view query must be at most {MAX_VIEW_QUERY} printable characters")
        with self._db.write() as conn:
            conn.execute(delete(saved_views).where(saved_views.c.user == user, saved_views.c.name == name))
            count = len(conn.execute(select(saved_views.c.name).where(saved_views.c.user == user)).all())
            if count >= MAX_VIEWS:
                raise InvalidFilter(f"at most {MAX_VIEWS} saved views per user")
            conn.execute(saved_views.insert().values(user=user, name=name, query=query, created_at=now))

    def delete_view(self, user: str, name: str) -> bool:
        if not findable(name):
            return False
        with self._db.write() as conn:
            return conn.execute(delete(saved_views).where(saved_views.c.user == user,
                                                          saved_views.c.name == name)).rowcount > 0


def _supervisors_on_shift(conn: Connection, since: datetime) -> tuple[tuple[str, ...], bool]:
    active = select(users.c.name).where(users.c.role == SUPERVISOR, users.c.active.is_(True))
    seen = conn.execute(active.join_from(users, console_presence, console_presence.c.user == users.c.name)
                        .where(console_presence.c.last_seen_at >= since).order_by(users.c.name)).scalars().all()
    if seen:
        return tuple(seen), True
    return tuple(conn.execute(active.order_by(users.c.name)).scalars().all()), False
