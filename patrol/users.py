"""Users of the review console and their roles."""
from __future__ import annotations

from dataclasses import dataclass

import bcrypt

OFFICER, SUPERVISOR, ADMIN, AUDITOR = "officer", "supervisor", "admin", "auditor"
ROLES = (OFFICER, SUPERVISOR, ADMIN, AUDITOR)

# bcrypt's cost; the store lowers it only in tests, where hashing speed matters more than strength.
DEFAULT_ROUNDS = 12
# bcrypt ignores everything after 72 bytes; refusing longer passwords beats silently truncating them.
MAX_PASSWORD_BYTES = 72


class UserError(ValueError):
    """A user that cannot be created as asked: bad name, role or password."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    active: bool = True

    @property
    def can_review(self) -> bool:
        return self.active and self.role in (OFFICER, SUPERVISOR)

    @property
    def can_read_audit(self) -> bool:
        return self.active and self.role in (AUDITOR, ADMIN)

    @property
    def can_manage_users(self) -> bool:
        return self.active and self.role == ADMIN


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    return role


def check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or name != name.strip() or len(name) > 64:
        raise UserError(f"user name must be 1-64 characters without surrounding spaces, got {name!r}")
    return name


def hash_password(password: str, rounds: int = DEFAULT_ROUNDS) -> str:
    data = _password_bytes(password)
    return bcrypt.hashpw(data, bcrypt.gensalt(rounds=rounds)).decode("ascii")


def check_password(password: str, password_hash: str) -> bool:
    try:
        data = _password_bytes(password)
        return bcrypt.checkpw(data, password_hash.encode("ascii"))
    except (UserError, ValueError):
        return False


def _password_bytes(password: str) -> bytes:
    if not isinstance(password, str) or not password:
        raise UserError("password must not be empty")
    data = password.encode("utf-8")
    if len(data) > MAX_PASSWORD_BYTES:
        raise UserError(f"password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8")
    return data
