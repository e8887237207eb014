"""The audit key: the secret the audit chain's HMACs and the checkpoints' signatures use.

It lives outside the workflow database, so that write access to the database is not enough to
rewrite the trail: in PATROL_AUDIT__KEY (a secret handed in by the service manager or a secret
store; preferred in production) or else in the file `audit.key` under PATROL_HOME, created on
first use with mode 0600 (owner only). A key file that others can read is refused, as ssh refuses
a private key anyone can read: a leaked key lets its reader forge a consistent chain.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

KEY_FILE = "audit.key"
_KEY_BYTES = 32


class AuditKeyError(ValueError):
    """The key cannot be read or does not fit the chain; the message says which file or setting."""


@dataclass(frozen=True)
class AuditKey:
    """`secret`: the HMAC key. `origin`: where it came from (a path, or the setting's name), for messages."""

    secret: bytes
    origin: str

    @property
    def key_id(self) -> str:
        """A public name for the key (16 hex digits), stored with the chain and each checkpoint so
        that verifying with the wrong key says so instead of reporting a rewrite."""
        return self.derive(b"patrol-audit-key-id").hex()[:16]

    def derive(self, purpose: bytes) -> bytes:
        """A sub-key for one purpose (checkpoint signatures), so one use cannot stand in for another."""
        return hmac.new(self.secret, purpose, hashlib.sha256).digest()

    def __repr__(self) -> str:  # never print the secret
        return f"AuditKey(key_id={self.key_id!r}, origin={self.origin!r})"


def load_audit_key(home: Path, configured: str | None = None) -> AuditKey:
    """The configured secret (PATROL_AUDIT__KEY), else `home/audit.key`, created when missing."""
    if configured:
        if len(configured) < 16:
            raise AuditKeyError("PATROL_AUDIT__KEY is shorter than 16 characters; use a long random secret")
        return AuditKey(configured.encode("utf-8"), "PATROL_AUDIT__KEY")
    path = Path(home) / KEY_FILE
    if not path.exists():
        _create(path)
    return _read(path)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once must not write two different keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(_KEY_BYTES) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _read(path: Path) -> AuditKey:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise AuditKeyError(f"{path}: the audit key is readable by others (mode {mode:04o}); "
                            f"run `chmod 600 {path}`")
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise AuditKeyError(f"{path}: not an audit key (expected {2 * _KEY_BYTES} hex digits)") from None
    if len(secret) < 16:
        raise AuditKeyError(f"{path}: the audit key is too short ({len(secret)} bytes)")
    return AuditKey(secret, str(path))
