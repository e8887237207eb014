"""The tamper-evident audit trail: a keyed hash chain of events.

Each event's hash covers its own fields and the previous event's hash, so editing, removing or
reordering any stored event breaks every hash after it. The store only ever appends.

The hash is an HMAC-SHA256 under the audit key (patrol/audit_key.py), which is kept outside the
database: someone who can write the database but has not the key cannot rewrite the chain
consistently. Chains written before the key existed keep their plain SHA-256 events; the first
keyed event (`audit.keyed`) names how many came before it (docs/AUDIT.md). Cutting events off the
end or emptying the table is caught against the signed checkpoints kept outside the database
(patrol/checkpoints.py).
"""
from __future__ import annotations

import hashlib
import hmac
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
    # grouping and evidence (issue 11b): a member attached to a lead (on both), a package exported
    "alert.grouped", "alert.member_attached", "evidence.exported",
    # the public-opinion views (patrol/events): an officer's changes to an event, a burst's alert
    "event.renamed",
    "event.dismissed",
    "event.merged",
    "event.split",
    "event.auto_split",   # patrol/events/drift.py: an event of two topics split by the ingest
    "trend.alert",
    "alert.assigned",         # a supervisor handed the alert to a reviewer
    "alert.deadline_passed",  # a life-risk alert went overdue; the supervisors on shift were told
    "identifier.revealed",    # a reviewer unmasked an ID/phone number/address of an alert's post
    "user.added",
    "user.changed",
    "user.login",
    "user.locked",
    "user.unlocked",
    "session.ended",
    "search.performed",
    "watchlist.changed",
    # issue 15: officers' labels outside decisions, the recall sample, the model lifecycle
    "post.labelled", "recall_sample.drawn", "model.promoted", "model.refused", "model.rolled_back",
    "lexicon.reloaded",
    "source.health_alert",
    "alert.viewed",
    "post.viewed",
    "audit.keyed",
    "retention.purged",
    "index.rebuilt",
    "rule.changed",  # issue 11: an admin switched an alert rule or moved its threshold
})

# Reading, not changing: who opened which alert or post. Kept out of an alert's history (the
# console's list of what was done to it); an auditor reads them in the trail.
VIEW_ACTIONS = frozenset({"alert.viewed", "post.viewed"})

# The event that starts the keyed part of a chain that had unkeyed (legacy) events before it.
KEYED_ACTION = "audit.keyed"


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


# What `verify` found wrong, as the issue names the attacks (docs/AUDIT.md).
REWRITTEN, TRUNCATED, EMPTIED, WRONG_KEY, NO_KEY = "rewritten", "truncated", "emptied", "wrong_key", "no_key"


@dataclass(frozen=True)
class AuditVerification:
    """ok, how many events were checked, the first bad seq and why. `problem`: one of REWRITTEN,
    TRUNCATED, EMPTIED, WRONG_KEY, NO_KEY ("" when ok). `keyed`: the chain is HMAC-keyed;
    `checkpoint_seq`/`checkpoint_at`: the checkpoint it was checked against (None: none given)."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    problem: str = ""
    keyed: bool = False
    checkpoint_seq: int | None = None
    checkpoint_at: str | None = None


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
                 payload: dict[str, Any], prev_hash: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 under `key`; plain SHA-256 when `key` is None (events written before the chain
    was keyed, and stores opened without a key, as tests do)."""
    body = json.dumps(
        {"seq": seq, "at": at, "actor": actor, "action": action, "subject": subject,
         "payload": json.loads(canonical_payload(payload)), "prev_hash": prev_hash},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode("utf-8")
    if key is None:
        return hashlib.sha256(body).hexdigest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def next_event(prev_seq: int, prev_hash: str, at: datetime, actor: str, action: str, subject: str,
               payload: dict[str, Any] | None = None, key: bytes | None = None) -> AuditEvent:
    """The event that follows (prev_seq, prev_hash) in the chain; (0, GENESIS_HASH) starts it."""
    if action not in ACTIONS:
        raise AuditError(f"unknown audit action {action!r}; expected one of {', '.join(sorted(ACTIONS))}")
    if not actor:
        raise AuditError("an audit event needs an actor")
    payload = json.loads(canonical_payload(payload or {}))
    seq, when = prev_seq + 1, format_time(at)
    return AuditEvent(seq=seq, at=when, actor=actor, action=action, subject=subject, payload=payload,
                      prev_hash=prev_hash,
                      hash=compute_hash(seq, when, actor, action, subject, payload, prev_hash, key))


def verify_chain(events: Iterable[AuditEvent], start_seq: int = 0,
                 start_hash: str = GENESIS_HASH, key: bytes | None = None,
                 keyed_from: int | None = None) -> AuditVerification:
    """Check that `events` continue the chain at (start_seq, start_hash) with no gap, reordering
    or altered field. Events from seq `keyed_from` on are checked as HMACs under `key` (None: the
    chain is not keyed). Stops at the first bad event and names its seq."""
    prev_seq, prev_hash, checked = start_seq, start_hash, 0
    for event in events:
        if event.seq != prev_seq + 1:
            return AuditVerification(False, checked, prev_seq + 1,
                                     f"expected seq {prev_seq + 1}, found {event.seq}: events missing or reordered",
                                     REWRITTEN)
        if event.prev_hash != prev_hash:
            return AuditVerification(False, checked, event.seq,
                                     "prev_hash does not match the previous event's hash", REWRITTEN)
        keyed = keyed_from is not None and event.seq >= keyed_from
        expected = compute_hash(event.seq, event.at, event.actor, event.action, event.subject,
                                event.payload, event.prev_hash, key if keyed else None)
        if event.hash != expected:
            why = ("its HMAC does not match its content: written or changed without the audit key"
                   if keyed else "hash does not match the event's content")
            return AuditVerification(False, checked, event.seq, why, REWRITTEN)
        if keyed and event.seq == keyed_from and keyed_from > 1 and not _is_keying_marker(event):
            return AuditVerification(False, checked, event.seq,
                                     f"the keyed part starts at seq {keyed_from}, but that event is not "
                                     f"the {KEYED_ACTION} event naming {keyed_from - 1} earlier event(s)",
                                     REWRITTEN)
        prev_seq, prev_hash = event.seq, event.hash
        checked += 1
    return AuditVerification(True, checked)


def _is_keying_marker(event: AuditEvent) -> bool:
    return (event.action == KEYED_ACTION and isinstance(event.payload, dict)
            and event.payload.get("legacy_events") == event.seq - 1)
