"""Who may log in, their sessions, and the administration of users: the work behind the API's
tokens, the console's sessions, /api/users and /console/admin/users.

Every change goes through the store, which checks that the actor is an active admin and audits it
in the same transaction (user.added, user.changed, user.unlocked, session.ended)."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from api.schemas import AccountOut, SessionOut
from patrol import sessions as session_reasons
from patrol.sessions import TOKEN, session_id_for
from patrol.users import User, UserError, check_new_password


def _now() -> datetime:
    return datetime.now(timezone.utc)


def authenticate(svc, username: str, password: str, address: str | None = None) -> User | None:
    """The user when the password is right and the user active, else None. The store audits
    every attempt as user.login, failures included, and raises patrol.login_limits.LoginRefused
    while too many failures hold the account or the address back."""
    try:
        return svc.store.authenticate(username, password, address=address)
    except UserError:  # e.g. a password longer than bcrypt takes: simply not this user's password
        return None


def open_session(svc, signer, user: User, kind: str, address: str) -> str:
    """A new signed credential for `user` (a bearer token or a console cookie) whose session the
    store keeps until it expires or is ended."""
    nonce = secrets.token_urlsafe(18)
    now = _now()
    svc.store.open_session(session_id_for(nonce), user.name, kind,
                           now + timedelta(seconds=signer.ttl_seconds), address, now)
    return signer.issue_token(user.name, nonce) if kind == TOKEN else signer.issue_session(user.name, nonce)


def session_user(svc, nonce: str) -> User | None:
    return svc.store.session_user(session_id_for(nonce), _now())


def logout(svc, username: str, nonce: str) -> None:
    """End the caller's own session (its credential stops working everywhere at once)."""
    svc.store.end_session(session_id_for(nonce), username, session_reasons.LOGOUT, _now(), of_user=username)


# --- administration (admins only; the store refuses anyone else) -----------------------------

def accounts(svc) -> list[AccountOut]:
    return [AccountOut(name=a.name, role=a.role, active=a.active, locked=a.locked,
                       default_password=a.default_password, live_sessions=a.live_sessions,
                       created_at=a.created_at) for a in svc.store.accounts(_now())]


def add_user(svc, actor: str, name: str, role: str, password: str) -> User:
    check_new_password(password)
    return svc.store.add_user(name, role, password, actor=actor, now=_now())


def set_active(svc, actor: str, name: str, active: bool) -> User:
    return svc.store.set_user(name, actor, _now(), active=active)


def set_role(svc, actor: str, name: str, role: str) -> User:
    return svc.store.set_user(name, actor, _now(), role=role)


def reset_password(svc, actor: str, name: str, password: str) -> User:
    check_new_password(password)
    return svc.store.set_user(name, actor, _now(), password=password)


def unlock(svc, actor: str, name: str) -> bool:
    return svc.store.unlock_user(name, actor, _now())


def sessions_of(svc, actor: str, name: str) -> list[SessionOut]:
    """`actor` must be an admin: checked by the route (reading sessions changes nothing)."""
    return [SessionOut(id=s.id, user=s.user_name, kind=s.kind, created_at=s.created_at,
                       expires_at=s.expires_at, address=s.address)
            for s in svc.store.list_sessions(name, _now())]


def end_session(svc, actor: str, name: str, session_id: str) -> None:
    _require_admin(svc, actor)
    svc.store.end_session(session_id, actor, session_reasons.ENDED_BY_ADMIN, _now(), of_user=name)


def end_sessions(svc, actor: str, name: str) -> int:
    return svc.store.end_sessions(name, actor, _now())


def _require_admin(svc, actor: str) -> None:
    from patrol.reviews import PermissionDenied

    user = svc.store.get_user(actor)
    if user is None or not user.can_manage_users:
        raise PermissionDenied(f"{actor} cannot manage users: that needs an active admin")

