"""Users and their passwords (bcrypt hashes), and who may act inside a transaction."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from patrol import reviews, sessions as session_reasons
from patrol.login_limits import LoginPolicy
from patrol.sessions import Account
from patrol.store import logins
from patrol.store.audit import AuditRepository
from patrol.store.chain import AuditChain
from patrol.store.database import SYSTEM_ACTOR, Database, findable
from patrol.store.engine import insert_ignore
from patrol.store.records import NotFound, UserExists
from patrol.store.schema import users
from patrol.store.sessions import SessionRepository, end_user_sessions
from patrol.users import (User, UserError, check_name, check_password, check_role, hash_password,
                          known_default_password)


class UserRepository:
    """`password_rounds` is bcrypt's cost; only tests should lower it."""

    def __init__(self, db: Database, audit: AuditRepository, password_rounds: int,
                 login_policy: LoginPolicy | None = None):
        self._db = db
        self._audit = audit
        self.password_rounds = password_rounds
        self.login_policy = login_policy or LoginPolicy()
        self._sessions = SessionRepository(db)
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
                                            "active": True, "created_at": now,
                                            "default_password": known_default_password(name, password)}) != 1:
                raise UserExists(f"user {name!r} already exists")
            chain.append(now, actor, "user.added", f"user:{name}", {"role": role})
        return User(name=name, role=role, active=True)

    def set_user(self, name: str, actor: str, now: datetime, *, role: str | None = None,
                 active: bool | None = None, password: str | None = None) -> User:
        """Change a user's role, active flag or password (audited as user.changed; never the
        password). A password or role change and a deactivation end the user's sessions at once."""
        values: dict[str, Any] = {}
        if role is not None:
            values["role"] = check_role(role)
        if active is not None:
            values["active"] = bool(active)
        if password is not None:
            values["password_hash"] = hash_password(password, rounds=self.password_rounds)
            values["default_password"] = known_default_password(name, password)
        if not values:
            raise UserError("nothing to change: give a role, an active flag or a password")
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            require_user_manager(conn, actor)
            before = conn.execute(select(users).where(users.c.name == name)).first() if findable(name) else None
            if before is None:
                raise NotFound(f"no user {name!r}" if len(name) <= 64 else "no such user")
            conn.execute(update(users).where(users.c.name == name).values(values))
            chain.append(now, actor, "user.changed", f"user:{name}",
                         {"role": role, "active": active, "password_changed": password is not None})
            reason = (session_reasons.DEACTIVATED if active is False and before.active
                      else session_reasons.PASSWORD_CHANGED if password is not None
                      else session_reasons.ROLE_CHANGED if role is not None and role != before.role
                      else None)
            if reason:
                end_user_sessions(conn, chain, name, actor, reason, now)
            row = conn.execute(select(users).where(users.c.name == name)).one()
            return User(row.name, row.role, row.active)

    def unlock(self, name: str, actor: str, now: datetime) -> bool:
        """Lift a login lockout or back-off (audited as user.unlocked); whether one was in force."""
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            require_user_manager(conn, actor)
            if not findable(name) or conn.execute(select(users.c.name).where(users.c.name == name)).first() is None:
                raise NotFound(f"no user {name!r}" if findable(name) and len(name) <= 64 else "no such user")
            lifted = logins.lift_lock(conn, name)
            chain.append(now, actor, "user.unlocked", f"user:{name}", {"lifted": lifted})
            return lifted

    def end_all_sessions(self, name: str, actor: str, now: datetime) -> int:
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            require_user_manager(conn, actor)
            if not findable(name) or conn.execute(select(users.c.name).where(users.c.name == name)).first() is None:
                raise NotFound(f"no user {name!r}" if findable(name) and len(name) <= 64 else "no such user")
            return end_user_sessions(conn, chain, name, actor, session_reasons.ENDED_BY_ADMIN, now)

    def accounts(self, now: datetime) -> list[Account]:
        """Every user with lockout, default-password and live-session state, by name."""
        live = self._sessions.live_counts(now)
        with self._db.read() as conn:
            locked = logins.locked_names(conn)
            rows = conn.execute(select(users).order_by(users.c.name)).all()
        return [Account(r.name, r.role, bool(r.active), r.created_at, r.name in locked,
                        bool(r.default_password), live.get(r.name, 0)) for r in rows]

    def active_default_password_users(self) -> list[str]:
        with self._db.read() as conn:
            return list(conn.execute(select(users.c.name).where(users.c.active.is_(True),
                                                                users.c.default_password.is_(True))
                                     .order_by(users.c.name)).scalars())

    def authenticate(self, name: str, password: str, now: datetime | None = None,
                     address: str | None = None) -> User | None:
        """The user when the password matches and the user is active; every attempt is audited.
        Raises patrol.login_limits.LoginRefused, without checking the password, while the
        account or the address (`address`: the client's, when known) is held back by failures."""
        now = now or datetime.now(timezone.utc)
        dummy_hash = self._dummy_hash
        row = self._user_row(name)
        # A name no user can have (too long for the subject column, a NUL) is audited as such,
        # and all such names share one counter.
        valid = bool(row) or (findable(name) and len(name) <= 64)
        subject = f"user:{name}" if valid else "user:(invalid name)"
        name_key = name if valid else "(invalid name)"
        actor = name if row else SYSTEM_ACTOR
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            refused, would_lock = logins.reserve(conn, chain, self.login_policy, name_key, address,
                                                 subject, actor, now)
        if refused is not None:
            raise refused
        ok = check_password(password, row.password_hash if row else dummy_hash) and row is not None
        ok = ok and bool(row.active)
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            chain.append(now, actor, "user.login", subject, {"ok": ok})
            if ok:
                logins.forgive(conn, self.login_policy, name_key, address)
            elif would_lock:
                chain.append(now, SYSTEM_ACTOR, "user.locked", subject,
                             {"failures": self.login_policy.lock_after})
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
