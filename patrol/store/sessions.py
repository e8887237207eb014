"""Login sessions (patrol.sessions): opened at login, checked on every request, ended by logout,
a password or role change, deactivation or an admin. Ends are audited as session.ended."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection

from patrol.sessions import KINDS, Session
from patrol.store.chain import AuditChain
from patrol.store.database import Database, findable
from patrol.store.records import NotFound
from patrol.store.schema import sessions, users
from patrol.users import User


class SessionRepository:
    def __init__(self, db: Database):
        self._db = db

    def open_session(self, session_id: str, user_name: str, kind: str, expires_at: datetime,
                     address: str, now: datetime) -> Session:
        if kind not in KINDS:
            raise ValueError(f"session kind must be one of {', '.join(KINDS)}")
        row = {"id": session_id, "user_name": user_name, "kind": kind, "created_at": now,
               "expires_at": expires_at, "address": (address or "")[:64]}
        with self._db.write() as conn:
            conn.execute(sessions.insert().values(row))
        return Session(**row)

    def session_user(self, session_id: str, now: datetime) -> User | None:
        """The active user of a live session, else None (ended, expired, unknown, user inactive)."""
        if not findable(session_id) or len(session_id) > 64:
            return None
        stmt = (select(users.c.name, users.c.role, users.c.active)
                .select_from(sessions.join(users, users.c.name == sessions.c.user_name))
                .where(sessions.c.id == session_id, sessions.c.ended_at.is_(None),
                       sessions.c.expires_at > now, users.c.active.is_(True)))
        with self._db.read() as conn:
            row = conn.execute(stmt).first()
        return User(row.name, row.role, row.active) if row else None

    def list_sessions(self, user_name: str | None, now: datetime) -> list[Session]:
        """Live sessions, newest first; of one user when `user_name` is given."""
        stmt = select(sessions).where(sessions.c.ended_at.is_(None), sessions.c.expires_at > now)
        if user_name is not None:
            if not findable(user_name):
                return []
            stmt = stmt.where(sessions.c.user_name == user_name)
        with self._db.read() as conn:
            return [_session(r) for r in conn.execute(stmt.order_by(sessions.c.created_at.desc()))]

    def live_counts(self, now: datetime) -> dict[str, int]:
        stmt = (select(sessions.c.user_name, func.count()).where(sessions.c.ended_at.is_(None),
                                                                 sessions.c.expires_at > now)
                .group_by(sessions.c.user_name))
        with self._db.read() as conn:
            return {name: n for name, n in conn.execute(stmt)}

    def end_session(self, session_id: str, actor: str, reason: str, now: datetime,
                    *, of_user: str | None = None) -> Session:
        """End one session (logout, or an admin; `of_user` checks whose it is). NotFound when no
        live session has that id."""
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            row = None
            if findable(session_id) and len(session_id) <= 64:
                row = conn.execute(select(sessions).where(sessions.c.id == session_id)).first()
            if row is None or row.ended_at is not None or (of_user is not None and row.user_name != of_user):
                raise NotFound("no live session with that id" + (f" for user {of_user!r}" if of_user else ""))
            conn.execute(update(sessions).where(sessions.c.id == session_id)
                         .values(ended_at=now, ended_reason=reason))
            chain.append(now, actor, "session.ended", f"user:{row.user_name}",
                         {"sessions": 1, "reason": reason, "session": session_id[:16]})
            return Session(row.id, row.user_name, row.kind, row.created_at, row.expires_at, row.address,
                           now, reason)


def end_user_sessions(conn: Connection, chain: AuditChain, user_name: str, actor: str, reason: str,
                      now: datetime) -> int:
    """End every live session of a user inside the caller's transaction; audited when any ended."""
    ended = conn.execute(update(sessions).where(and_(sessions.c.user_name == user_name,
                                                     sessions.c.ended_at.is_(None)))
                         .values(ended_at=now, ended_reason=reason)).rowcount
    if ended:
        chain.append(now, actor, "session.ended", f"user:{user_name}", {"sessions": ended, "reason": reason})
    return ended


def _session(r) -> Session:
    return Session(r.id, r.user_name, r.kind, r.created_at, r.expires_at, r.address, r.ended_at, r.ended_reason)
