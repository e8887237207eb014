"""The tamper-evident audit trail: a hash chain of events.

Each event's hash covers its own fields and the previous event's hash, so editing, removing or
reordering any stored event breaks every hash after it. The store only ever appends.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

GENESIS_HASH = "0" * 64

ACTIONS = frozenset({
    "alert.opened",
    "alert.claimed",
    "alert.released",
    "alert.decided",
    "alert.note_added",
    "alert.assigned",         # a supervisor handed the alert to a reviewer
    "alert.deadline_passed",  # a life-risk alert went overdue; the supervisors on shift were told
    "identifier.revealed",    # a reviewer unmasked an ID/phone number/address of an alert's post
    "user.added",
    "user.changed",
    "user.login",
    "search.performed",
    "watchlist.changed",
    "lexicon.reloaded",
    "source.health_alert",
})


class AuditError(ValueError):
    """An event that cannot be recorded (unknown action, payload that is not JSON)."""


@dataclass(frozen=True)
class AuditEvent:
    """One entry of the trail. `at` is an ISO-8601 UTC timestamp string, stored exactly as hashed."""

    seq: int
    at: str
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    @property
    def at_datetime(self) -> datetime:
        return datetime.fromisoformat(self.at)

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "action": self.action,
                "subject": self.subject, "payload": self.payload, "prev_hash": self.prev_hash,
                "hash": self.hash}


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def format_time(at: datetime) -> str:
    if at.tzinfo is None:
        raise AuditError("audit times must be timezone-aware")
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def canonical_payload(payload: dict[str, Any]) -> str:
    """The one JSON text of a payload: what is stored and what is hashed."""
    try:
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AuditError(f"audit payload must be plain JSON: {exc}") from exc


def compute_hash(seq: int, at: str, actor: str, action: str, subject: str,
                 payload: dict[str, Any], prev_hash: str) -> str:
    body = json.dumps(
        {"seq": seq, "at": at, "actor": actor, "action": action, "subject": subject,
         "payload": json.loads(canonical_payload(payload)), "prev_hash": prev_hash},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def next_event(prev_seq: int, prev_hash: str, at: datetime, actor: str, action: str, subject: str,
               payload: dict[str, Any] | None = None) -> AuditEvent:
    """The event that follows (prev_seq, prev_hash) in the chain; (0, GENESIS_HASH) starts it."""
    if action not in ACTIONS:
        raise AuditError(f"unknown audit action {action!r}; expected one of {', '.join(sorted(ACTIONS))}")
    if not actor:
        raise AuditError("an audit event needs an actor")
    payload = json.loads(canonical_payload(payload or {}))
    seq, when = prev_seq + 1, format_time(at)
    return AuditEvent(seq=seq, at=when, actor=actor, action=action, subject=subject, payload=payload,
                      prev_hash=prev_hash, hash=compute_hash(seq, when, actor, action, subject, payload, prev_hash))


def verify_chain(events: Iterable[AuditEvent], start_seq: int = 0,
                 start_hash: str = GENESIS_HASH) -> AuditVerification:
    """Check that `events` continue the chain at (start_seq, start_hash) with no gap, reordering
    or altered field. Stops at the first bad event and names its seq."""
    prev_seq, prev_hash, checked = start_seq, start_hash, 0
    for event in events:
        if event.seq != prev_seq + 1:
            return AuditVerification(False, checked, prev_seq + 1,
                                     f"expected seq {prev_seq + 1}, found {event.seq}: events missing or reordered")
        if event.prev_hash != prev_hash:
            return AuditVerification(False, checked, event.seq,
                                     "prev_hash does not match the previous event's hash")
        expected = compute_hash(event.seq, event.at, event.actor, event.action, event.subject,
                                event.payload, event.prev_hash)
        if event.hash != expected:
            return AuditVerification(False, checked, event.seq, "hash does not match the event's content")
        prev_seq, prev_hash = event.seq, event.hash
        checked += 1
    return AuditVerification(True, checked)
