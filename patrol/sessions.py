"""Login sessions as the core knows them: one per bearer token or console cookie issued.

The credential a client holds is signed by the API and carries a random nonce; the store keeps
only the nonce's SHA-256 (the session id), so reading the sessions table gives nobody a working
credential, and a credential works only while its row is active.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

TOKEN, CONSOLE = "token", "console"
KINDS = (TOKEN, CONSOLE)

# Why a session ended, as recorded on its row and in the session.ended audit event.
LOGOUT = "logout"
PASSWORD_CHANGED = "password_changed"
ROLE_CHANGED = "role_changed"
DEACTIVATED = "deactivated"
ENDED_BY_ADMIN = "ended_by_admin"


def session_id_for(nonce: str) -> str:
    return hashlib.sha256(f"patrol.session\x1f{nonce}".encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    id: str
    user_name: str
    kind: str
    created_at: datetime
    expires_at: datetime
    address: str
    ended_at: datetime | None = None
    ended_reason: str | None = None

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and self.expires_at > now


@dataclass(frozen=True)
class Account:
    """A user as the administration sees it: the user, whether a lockout holds, whether the
    password is a known default, and how many sessions are live."""

    name: str
    role: str
    active: bool
    created_at: datetime
    locked: bool
    default_password: bool
    live_sessions: int
