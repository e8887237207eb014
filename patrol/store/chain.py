"""Appending to the audit chain inside a store transaction.

An append normally writes its event and moves the head at once (two statements). A bulk writer
(`Store.save_batch`: an ingest batch opens hundreds of alerts, each with one to three events)
uses `AuditChain.batch`: the events are computed and HMAC-chained exactly as one by one, in
the same order, but written with one multi-row insert and one head update when the block ends,
still inside the caller's transaction. The stored rows are identical either way (tested in
tests/patrol/test_alert_batch.py), so `patrol audit verify` and the checkpoints see no difference.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from patrol import audit as audit_mod
from patrol.audit import AuditError, AuditEvent
from patrol.audit_key import AuditKey
from patrol.store.schema import audit_head, audit_log


class AuditChain:
    """The audit chain inside one write transaction: locks the head on creation, appends after it.

    `key`: the audit key this process holds (the store's `Database.audit_key`), never defaulted so
    that no writer can forget it; None for a store opened without one, as tests and the crawlers'
    state reader do. A keyed chain refuses appends without its key, or with another key, because
    either would leave events nobody can verify."""

    def __init__(self, conn: Connection, key: AuditKey | None):
        self.conn = conn
        row = conn.execute(select(audit_head.c.seq, audit_head.c.hash, audit_head.c.key_id)
                           .where(audit_head.c.id == 1).with_for_update()).one()
        self.seq, self.hash, self.key_id = row.seq, row.hash, row.key_id
        self.key = key
        self.appended: list[AuditEvent] = []
        self._deferred: list[dict] | None = None  # rows not yet written, inside batch()

    @classmethod
    @contextmanager
    def batch(cls, conn: Connection, key: AuditKey | None) -> Iterator["AuditChain"]:
        """A chain whose appends are written together when the block ends without an error (an
        error rolls the caller's transaction back, so nothing half-written can stay)."""
        chain = cls(conn, key)
        chain._deferred = []
        yield chain
        chain.flush()

    def flush(self) -> None:
        """Write the deferred events and the head they lead to (nothing to do outside batch())."""
        if not self._deferred:
            return
        rows, self._deferred = self._deferred, []
        self.conn.execute(audit_log.insert(), rows)
        self.conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=self.seq, hash=self.hash))

    def _secret(self) -> bytes | None:
        if self.key_id is None:
            return None
        if self.key is None:
            raise AuditError(f"the audit chain is keyed (key {self.key_id}) and this process has no audit key: "
                             "set PATROL_AUDIT__KEY or put the key file back in PATROL_HOME")
        if self.key.key_id != self.key_id:
            raise AuditError(f"the audit chain is keyed with key {self.key_id}, but this process holds "
                             f"key {self.key.key_id} ({self.key.origin})")
        return self.key.secret

    def append(self, at: datetime, actor: str, action: str, subject: str, payload: dict | None = None) -> AuditEvent:
        ev = audit_mod.next_event(self.seq, self.hash, at, actor, action, subject, payload, self._secret())
        row = dict(seq=ev.seq, at=ev.at, actor=ev.actor, action=ev.action, subject=ev.subject,
                   payload=audit_mod.canonical_payload(ev.payload), prev_hash=ev.prev_hash, hash=ev.hash)
        if self._deferred is not None:
            self._deferred.append(row)
        else:
            self.conn.execute(audit_log.insert().values(row))
            self.conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=ev.seq, hash=ev.hash))
        self.seq, self.hash = ev.seq, ev.hash
        self.appended.append(ev)
        return ev

    def start_keying(self, at: datetime, key: AuditKey, actor: str) -> AuditEvent | None:
        """Key an unkeyed chain from its next event on. A chain with events gets the
        `audit.keyed` event first (naming how many unkeyed events come before it); an empty one
        is keyed from seq 1. Returns the marker event, if one was written."""
        if self.key_id is not None:
            raise AuditError(f"the audit chain is already keyed (key {self.key_id})")
        legacy = self.seq
        self.conn.execute(update(audit_head).where(audit_head.c.id == 1)
                          .values(key_id=key.key_id, keyed_from=legacy + 1))
        self.key_id, self.key = key.key_id, key
        if legacy == 0:
            return None
        return self.append(at, actor, audit_mod.KEYED_ACTION, "audit",
                           {"key_id": key.key_id, "legacy_events": legacy, "legacy_head": self.hash})
