"""Users of the review console and their roles."""
from __future__ import annotations

import re
from dataclasses import dataclass

import bcrypt

OFFICER, SUPERVISOR, ADMIN, AUDITOR = "officer", "supervisor", "admin", "auditor"
ROLES = (OFFICER, SUPERVISOR, ADMIN, AUDITOR)

# bcrypt's cost; the store lowers it only in tests, where hashing speed matters more than strength.
DEFAULT_ROUNDS = 12
# bcrypt ignores everything after 72 bytes; refusing longer passwords beats silently truncating them.
MAX_PASSWORD_BYTES = 72


class UserError(ValueError):
    """A user that cannot be created as asked: bad name, role or password. `zh` is the same in
    Chinese, for the console."""

    def __init__(self, message: str, zh: str | None = None):
        super().__init__(message)
        self.zh = zh or message


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
        raise UserError(f"role must be one of {', '.join(ROLES)}", "角色须为值班员、主管、管理员或审计员之一。")
    return role


# User names appear in audit subjects, logs, URLs and the console: ASCII letters, digits and
# `.`, `_`, `-`, starting with a letter or digit, at most 64. No spaces, no newline, no look-alikes.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NAME_RULE = "1-64 characters: ASCII letters, digits, '.', '_' or '-', starting with a letter or digit"
# Passwords set by people (the CLI, the API, the console) are at least this long.
MIN_PASSWORD_CHARS = 8
# Passwords anyone could guess because they ship with Patrol or with everything else. An account
# holding one (the demo user) keeps `patrol serve` on loopback (see known_default_password).
KNOWN_DEFAULT_PASSWORDS = frozenset({"demo", "admin", "password", "patrol", "changeme", "12345678", "123456"})


def check_name(name: str) -> str:
    # The name itself is not repeated: it may be megabytes long or hold control characters.
    if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
        raise UserError(f"user name must be {NAME_RULE}",
                        "用户名须为 1–64 个 ASCII 字母、数字或 . _ -，并以字母或数字开头。")
    return name


def check_new_password(password: str) -> str:
    """A password a person chooses: long enough and not one of the known defaults."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"the password must have at least {MIN_PASSWORD_CHARS} characters",
                        f"密码至少需要 {MIN_PASSWORD_CHARS} 个字符。")
    if password.lower() in KNOWN_DEFAULT_PASSWORDS:
        raise UserError("the password is a well-known default; choose another", "该密码是众所周知的默认密码，请另选。")
    _password_bytes(password)
    return password


def known_default_password(name: str, password: str) -> bool:
    """Whether a password is one an attacker would try first: a shipped default or the name."""
    return password.lower() in KNOWN_DEFAULT_PASSWORDS or password == name


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
        raise UserError(f"password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8",
                        f"密码的 UTF-8 编码不得超过 {MAX_PASSWORD_BYTES} 字节。")
    return data
