"""Signed checkpoints of the audit chain's head, appended to a file outside the database.

A checkpoint says "at time T the chain of store X had S events and its last hash was H". It is
one JSON line, signed with a sub-key of the audit key (HMAC-SHA256), linked to the line before it
by that line's signature, and appended (O_APPEND, fsync) to PATROL_AUDIT__CHECKPOINT_FILE
(default `audit-checkpoints.jsonl` under PATROL_HOME; put it on other storage than the database
in production). `patrol audit checkpoint` writes one and prints it, so it can be handed to an
external notary (mailed, printed, timestamped): whoever holds a copy can later compare it with the
file and with the chain. `patrol serve` writes one on a schedule.

`patrol audit verify` checks the chain against the last checkpoint: fewer events than it
recorded is truncation (none at all: emptying), a different hash at its seq is a rewrite.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from patrol.audit_key import AuditKey

CHECKPOINT_FILE = "audit-checkpoints.jsonl"
_FORMAT = 1
_SIGNING_PURPOSE = b"patrol-audit-checkpoint"


class CheckpointError(ValueError):
    """A checkpoint file that is damaged, forged or from another key; the message names file and line."""


class CheckpointKeyMismatch(CheckpointError):
    """The checkpoints were signed with another audit key than the one configured."""


@dataclass(frozen=True)
class Checkpoint:
    """The chain head at `at`: `seq` events, the last one's `hash`; `keyed_from` the first HMAC
    event (None: the chain was not keyed); `key_id` the key; `store_id` the database's identity."""

    seq: int
    hash: str
    keyed_from: int | None
    key_id: str
    store_id: str
    at: str
    prev_sig: str
    sig: str = ""

    def signed_body(self) -> bytes:
        body = {k: v for k, v in asdict(self).items() if k != "sig"}
        body["v"] = _FORMAT
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def to_line(self) -> str:
        body = json.loads(self.signed_body())
        body["sig"] = self.sig
        return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _sign(key: AuditKey, checkpoint: Checkpoint) -> str:
    return hmac.new(key.derive(_SIGNING_PURPOSE), checkpoint.signed_body(), hashlib.sha256).hexdigest()


class CheckpointLog:
    """The append-only checkpoint file of one chain."""

    def __init__(self, path: Path, key: AuditKey):
        self.path = Path(path)
        self.key = key

    def read(self) -> list[Checkpoint]:
        """Every checkpoint, each signature and link checked; CheckpointError at the first bad line."""
        if not self.path.exists():
            return []
        out: list[Checkpoint] = []
        prev_sig = ""
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{self.path}:{lineno}"
                try:
                    obj = json.loads(line)
                    if obj.pop("v") != _FORMAT:
                        raise ValueError("unknown checkpoint format")
                    cp = Checkpoint(**obj)
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    raise CheckpointError(f"{where}: not a checkpoint line ({exc})") from None
                if cp.key_id != self.key.key_id:
                    raise CheckpointKeyMismatch(f"{where}: signed with audit key {cp.key_id}, but the configured "
                                          f"key ({self.key.origin}) is {self.key.key_id}")
                if not hmac.compare_digest(cp.sig, _sign(self.key, cp)):
                    raise CheckpointError(f"{where}: the signature does not match: the line was altered")
                if cp.prev_sig != prev_sig:
                    raise CheckpointError(f"{where}: does not follow the line before it: lines removed or reordered")
                prev_sig = cp.sig
                out.append(cp)
        return out

    def last(self) -> Checkpoint | None:
        got = self.read()
        return got[-1] if got else None

    def append(self, seq: int, hash_: str, keyed_from: int | None, store_id: str,
               now: datetime | None = None) -> Checkpoint:
        """Sign and append the head (seq, hash_). Refuses a head behind the last checkpoint: that
        chain lost events, and a checkpoint of it would bless the loss. An exclusive lock on the
        file spans reading the last line and writing the next, so two processes checkpointing at
        once (two crawlers starting) still write one linked sequence."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last = self.last()
            if last is not None and (seq < last.seq or (seq == last.seq and hash_ != last.hash)):
                raise CheckpointError(f"the chain head (seq {seq}) does not extend the last checkpoint "
                                      f"(seq {last.seq}, {last.at}); run `patrol audit verify`")
            at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")
            unsigned = Checkpoint(seq, hash_, keyed_from, self.key.key_id, store_id, at,
                                  prev_sig=last.sig if last else "")
            cp = Checkpoint(**{**asdict(unsigned), "sig": _sign(self.key, unsigned)})
            os.write(fd, (cp.to_line() + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock
        return cp
