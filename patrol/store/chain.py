"""Appending to the audit chain inside a store transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from patrol import audit as audit_mod
from patrol.audit import AuditEvent
from patrol.store.schema import audit_head, audit_log


class AuditChain:
    """The audit chain inside one write transaction: locks the head on creation, appends after it."""

    def __init__(self, conn: Connection):
        self.conn = conn
        row = conn.execute(select(audit_head.c.seq, audit_head.c.hash)
                           .where(audit_head.c.id == 1).with_for_update()).one()
        self.seq, self.hash = row.seq, row.hash
        self.appended: list[AuditEvent] = []

    def append(self, at: datetime, actor: str, action: str, subject: str, payload: dict | None = None) -> AuditEvent:
        ev = audit_mod.next_event(self.seq, self.hash, at, actor, action, subject, payload)
        self.conn.execute(audit_log.insert().values(
            seq=ev.seq, at=ev.at, actor=ev.actor, action=ev.action, subject=ev.subject,
            payload=audit_mod.canonical_payload(ev.payload), prev_hash=ev.prev_hash, hash=ev.hash))
        self.conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=ev.seq, hash=ev.hash))
        self.seq, self.hash = ev.seq, ev.hash
        self.appended.append(ev)
        return ev
