"""The audit trail: appending one event on its own, reading events back, verifying the chain.
Appends that belong to a change go through `AuditChain` inside that change's transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from patrol import audit as audit_mod
from patrol.audit import GENESIS_HASH, AuditEvent, AuditVerification
from patrol.posts import text_problem
from patrol.store.chain import AuditChain
from patrol.store.database import Database
from patrol.store.records import InvalidFilter
from patrol.store.rows import event_from_row, payload_parses
from patrol.store.schema import audit_head, audit_log

MAX_SEQ = 2**31 - 1  # the audit seq column is a 32-bit integer on PostgreSQL


class AuditRepository:
    def __init__(self, db: Database):
        self._db = db

    def record_event(self, actor: str, action: str, subject: str, payload: dict | None,
                     now: datetime) -> AuditEvent:
        """Append one event on its own, e.g. search.performed (who searched what) or watchlist.changed."""
        with self._db.write() as conn:
            return AuditChain(conn).append(now, actor, action, subject, payload)

    def latest_seq(self) -> int:
        with self._db.read() as conn:
            return conn.execute(select(audit_head.c.seq).where(audit_head.c.id == 1)).scalar_one()

    def audit_events(self, after_seq: int = 0, limit: int = 100, actor: str | None = None,
                     action: str | None = None, subject: str | None = None) -> list[AuditEvent]:
        if not 1 <= limit <= 10_000:
            raise InvalidFilter(f"limit must be between 1 and 10000, got {limit}")
        if after_seq > MAX_SEQ:
            raise InvalidFilter(f"after_seq must be at most {MAX_SEQ}, got {after_seq}")
        stmt = select(audit_log).where(audit_log.c.seq > after_seq)
        for column, value in ((audit_log.c.actor, actor), (audit_log.c.action, action),
                              (audit_log.c.subject, subject)):
            if value is not None:
                if text_problem(value):
                    raise InvalidFilter(f"{column.name} {text_problem(value)}")
                stmt = stmt.where(column == value)
        with self._db.read() as conn:
            return [event_from_row(r) for r in conn.execute(stmt.order_by(audit_log.c.seq).limit(limit))]

    def verify_audit(self, chunk: int = 2000) -> AuditVerification:
        """Recompute the whole chain; also catches events cut off the end (the head row remembers)."""
        checked, prev_seq, prev_hash = 0, 0, GENESIS_HASH
        with self._db.read() as conn:
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).one()
            while True:
                rows = conn.execute(select(audit_log).where(audit_log.c.seq > prev_seq)
                                    .order_by(audit_log.c.seq).limit(chunk)).all()
                if not rows:
                    break
                try:
                    events = [event_from_row(r) for r in rows]
                except ValueError:
                    bad = next(r.seq for r in rows if not payload_parses(r.payload))
                    return AuditVerification(False, checked, bad, "payload is not valid JSON")
                result = audit_mod.verify_chain(events, prev_seq, prev_hash)
                checked += result.checked
                if not result.ok:
                    return AuditVerification(False, checked, result.first_bad_seq, result.reason)
                prev_seq, prev_hash = events[-1].seq, events[-1].hash
        if (head.seq, head.hash) != (prev_seq, prev_hash):
            return AuditVerification(False, checked, min(prev_seq, head.seq) + 1,
                                     f"the chain ends at seq {prev_seq} but its head records seq {head.seq}: "
                                     "events removed from the end or the head altered")
        return AuditVerification(True, checked)
