"""The audit trail: appending one event on its own, reading events back, keying the chain and
verifying it (against the audit key and the last checkpoint). Appends that belong to a change go
through `AuditChain` inside that change's transaction."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from sqlalchemy import select

from patrol import audit as audit_mod
from patrol.audit import (
    EMPTIED, GENESIS_HASH, NO_KEY, REWRITTEN, TRUNCATED, WRONG_KEY, AuditError, AuditEvent, AuditVerification,
)
from patrol.checkpoints import Checkpoint
from patrol.posts import text_problem
from patrol.store.chain import AuditChain
from patrol.store.database import SYSTEM_ACTOR, Database
from patrol.store.records import InvalidFilter
from patrol.store.rows import event_from_row, payload_parses
from patrol.store.schema import audit_head, audit_log, store_meta

MAX_SEQ = 2**31 - 1  # the audit seq column is a 32-bit integer on PostgreSQL


class AuditRepository:
    def __init__(self, db: Database):
        self._db = db

    def record_event(self, actor: str, action: str, subject: str, payload: dict | None,
                     now: datetime) -> AuditEvent:
        """Append one event on its own, e.g. search.performed (who searched what) or watchlist.changed."""
        with self._db.write() as conn:
            return AuditChain(conn, self._db.audit_key).append(now, actor, action, subject, payload)

    def key_chain(self, now: datetime | None = None) -> AuditEvent | None:
        """Key an unkeyed chain with this store's audit key (once; later calls change nothing).
        Returns the `audit.keyed` event when one was written."""
        key = self._db.audit_key
        if key is None:
            return None
        with self._db.write() as conn:
            chain = AuditChain(conn, key)
            if chain.key_id is not None:
                chain._secret()  # a chain keyed with another key: say so now, not at the first append
                return None
            return chain.start_keying(now or datetime.now(timezone.utc), key, SYSTEM_ACTOR)

    def check_key(self) -> None:
        """AuditError when the chain is keyed with another key than this store's."""
        with self._db.read() as conn:
            key_id = conn.execute(select(audit_head.c.key_id).where(audit_head.c.id == 1)).scalar_one()
        key = self._db.audit_key
        if key_id is not None and key is not None and key.key_id != key_id:
            raise AuditError(f"the audit chain is keyed with key {key_id}, but this process holds "
                             f"key {key.key_id} ({key.origin})")

    def head(self) -> tuple[int, str, int | None]:
        """(seq, hash, keyed_from) of the chain's head row: what a checkpoint records."""
        with self._db.read() as conn:
            row = conn.execute(select(audit_head).where(audit_head.c.id == 1)).one()
        return row.seq, row.hash, row.keyed_from

    def store_id(self) -> str:
        with self._db.read() as conn:
            return conn.execute(select(store_meta.c.value).where(store_meta.c.key == "store_id")).scalar_one()

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

    def verify_audit(self, chunk: int = 2000, checkpoint: Checkpoint | None = None) -> AuditVerification:
        """Recompute the whole chain (HMACs under the key from `keyed_from` on), check the head row,
        and, given the last checkpoint, that no event it recorded was cut off or rewritten."""
        result = self._verify(chunk, checkpoint)
        if checkpoint is not None:
            result = replace(result, checkpoint_seq=checkpoint.seq, checkpoint_at=checkpoint.at)
        return result

    def _verify(self, chunk: int, cp: Checkpoint | None) -> AuditVerification:
        key = self._db.audit_key
        checked, prev_seq, prev_hash = 0, 0, GENESIS_HASH
        with self._db.read() as conn:
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).one()
            keyed = head.key_id is not None
            if keyed and key is None:
                return AuditVerification(False, 0, None, f"the chain is keyed (key {head.key_id}); verifying "
                                         "it needs the audit key (PATROL_AUDIT__KEY or PATROL_HOME/audit.key)",
                                         NO_KEY, keyed)
            if keyed and key.key_id != head.key_id:
                return AuditVerification(False, 0, None, f"the chain is keyed with key {head.key_id}, the key "
                                         f"given ({key.origin}) is {key.key_id}", WRONG_KEY, keyed)
            if cp is not None and (cp.key_id, cp.keyed_from) != (head.key_id, head.keyed_from):
                return AuditVerification(
                    False, 0, head.keyed_from,
                    f"the checkpoint of {cp.at} records the chain keyed from seq {cp.keyed_from} with key "
                    f"{cp.key_id}; the database says seq {head.keyed_from} with key {head.key_id}: its keying "
                    "was rewritten", REWRITTEN, keyed)
            secret = key.secret if keyed else None
            while True:
                rows = conn.execute(select(audit_log).where(audit_log.c.seq > prev_seq)
                                    .order_by(audit_log.c.seq).limit(chunk)).all()
                if not rows:
                    break
                try:
                    events = [event_from_row(r) for r in rows]
                except ValueError:
                    bad = next(r.seq for r in rows if not payload_parses(r.payload))
                    return AuditVerification(False, checked, bad, "payload is not valid JSON", REWRITTEN, keyed)
                result = audit_mod.verify_chain(events, prev_seq, prev_hash, secret, head.keyed_from)
                checked += result.checked
                if not result.ok:
                    return replace(result, checked=checked, keyed=keyed)
                if cp is not None and events[0].seq <= cp.seq <= events[-1].seq:
                    at_cp = events[cp.seq - events[0].seq]
                    if at_cp.hash != cp.hash:
                        return AuditVerification(False, checked, cp.seq,
                                                 f"event {cp.seq} is not the one the checkpoint of {cp.at} "
                                                 "recorded: the chain was rewritten", REWRITTEN, keyed)
                prev_seq, prev_hash = events[-1].seq, events[-1].hash
        if cp is not None and prev_seq < cp.seq:
            if prev_seq == 0:
                return AuditVerification(False, checked, 1, f"the audit trail is empty, but the checkpoint of "
                                         f"{cp.at} recorded {cp.seq} event(s): it was emptied", EMPTIED, keyed)
            return AuditVerification(False, checked, prev_seq + 1,
                                     f"the chain ends at seq {prev_seq}, but the checkpoint of {cp.at} recorded "
                                     f"{cp.seq} event(s): events {prev_seq + 1}-{cp.seq} were cut off",
                                     TRUNCATED, keyed)
        if (head.seq, head.hash) != (prev_seq, prev_hash):
            return AuditVerification(False, checked, min(prev_seq, head.seq) + 1,
                                     f"the chain ends at seq {prev_seq} but its head records seq {head.seq}: "
                                     "events removed from the end or the head altered", TRUNCATED, keyed)
        return AuditVerification(True, checked, keyed=keyed)
