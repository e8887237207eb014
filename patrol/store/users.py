"""Users and their passwords (bcrypt hashes), and who may act inside a transaction."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from patrol import reviews
from patrol.store.audit import AuditRepository
from patrol.store.chain import AuditChain
from patrol.store.database import SYSTEM_ACTOR, Database, findable
from patrol.store.engine import insert_ignore
from patrol.store.records import NotFound, UserExists
from patrol.store.schema import users
from patrol.users import User, UserError, check_name, check_password, check_role, hash_password


class UserRepository:
    """`password_rounds` is bcrypt's cost; only tests should lower it."""

    def __init__(self, db: Database, audit: AuditRepository, password_rounds: int):
        self._db = db
        self._audit = audit
        self.password_rounds = password_rounds
        self._dummy: str | None = None

    @property
    def _dummy_hash(self) -> str:
        # Checking a password for an unknown user costs as much as for a known one (no user probing).
        # Made on the first login attempt, whoever it names, so a store that never authenticates
        # (a crawl pass reading its state) does not pay bcrypt's cost for nothing.
        if self._dummy is None:
            self._dummy = hash_password("patrol-no-such-user", rounds=self.password_rounds)
        return self._dummy

    def add_user(self, name: str, role: str, password: str, actor: str = SYSTEM_ACTOR,
                 now: datetime | None = None) -> User:
        check_name(name)
        check_role(role)
        now = now or datetime.now(timezone.utc)
        password_hash = hash_password(password, rounds=self.password_rounds)
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            require_user_manager(conn, actor)
            if insert_ignore(conn, users, {"name": name, "role": role, "password_hash": password_hash,
                                            "active": True, "created_at": now}) != 1:
                raise UserExists(f"user {name!r} already exists")
            chain.append(now, actor, "user.added", f"user:{name}", {"role": role})
        return User(name=name, role=role, active=True)

    def set_user(self, name: str, actor: str, now: datetime, *, role: str | None = None,
                 active: bool | None = None, password: str | None = None) -> User:
        """Change a user's role, active flag or password (audited as user.changed; never the password)."""
        values: dict[str, Any] = {}
        if role is not None:
            values["role"] = check_role(role)
        if active is not None:
            values["active"] = bool(active)
        if password is not None:
            values["password_hash"] = hash_password(password, rounds=self.password_rounds)
        if not values:
            raise UserError("nothing to change: give a role, an active flag or a password")
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            require_user_manager(conn, actor)
            if conn.execute(update(users).where(users.c.name == name).values(values)).rowcount != 1:
                raise NotFound(f"no user {name!r}")
            chain.append(now, actor, "user.changed", f"user:{name}",
                         {"role": role, "active": active, "password_changed": password is not None})
            row = conn.execute(select(users).where(users.c.name == name)).one()
            return User(row.name, row.role, row.active)

    def authenticate(self, name: str, password: str, now: datetime | None = None) -> User | None:
        """The user when the password matches and the user is active; every attempt is audited."""
        now = now or datetime.now(timezone.utc)
        dummy_hash = self._dummy_hash
        row = self._user_row(name)
        ok = check_password(password, row.password_hash if row else dummy_hash) and row is not None
        ok = ok and bool(row.active)
        # A name no user can have (too long for the subject column, a NUL) is audited as such.
        subject = f"user:{name}" if row or (findable(name) and len(name) <= 64) else "user:(invalid name)"
        self._audit.record_event(name if row else SYSTEM_ACTOR, "user.login", subject, {"ok": ok}, now)
        return User(row.name, row.role, row.active) if ok else None

    def get_user(self, name: str) -> User | None:
        row = self._user_row(name)
        return User(row.name, row.role, row.active) if row else None

    def _user_row(self, name: str):
        if not findable(name):
            return None
        with self._db.read() as conn:
            return conn.execute(select(users).where(users.c.name == name)).first()

    def list_users(self) -> list[User]:
        with self._db.read() as conn:
            return [User(r.name, r.role, r.active) for r in conn.execute(select(users).order_by(users.c.name))]


def require_user_manager(conn: Connection, actor: str) -> None:
    # "system" is whoever runs `patrol users add` on the server itself; anyone else must be an admin.
    if actor != SYSTEM_ACTOR and not acting_user(conn, actor).can_manage_users:
        raise reviews.PermissionDenied(f"{actor} cannot manage users: that needs an active admin")


def acting_user(conn: Connection, user: User | str) -> User:
    """The user as stored now, read inside the caller's transaction: a role change or
    deactivation takes effect at once."""
    name = user.name if isinstance(user, User) else user
    row = conn.execute(select(users).where(users.c.name == name)).first()
    if row is None:
        raise reviews.PermissionDenied(f"no user {name!r}")
    return User(row.name, row.role, row.active)
