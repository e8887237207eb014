"""The audit trail: reading it page by page, verifying its chain, and the events the API adds
itself (the store audits every change it makes on its own)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from api.schemas import AuditEventOut, AuditPageOut, AuditVerificationOut
from patrol.audit_anchor import verify as verify_anchored


def record(svc, action: str, actor: str, subject: str | None, data: dict[str, Any]) -> None:
    svc.store.record_event(actor, action, subject or "", data, datetime.now(timezone.utc))


def viewed(svc, actor: str, kind: str, item_id: str, via: str) -> None:
    """`alert.viewed` / `post.viewed`: who read which alert or post, and from where (api, console)."""
    record(svc, f"{kind}.viewed", actor, subject=f"{kind}:{item_id}", data={"via": via})


def events_page(svc, *, after_seq: int, limit: int, actor: str | None, action: str | None,
                subject: str | None) -> AuditPageOut:
    events = svc.store.audit_events(after_seq=after_seq, limit=limit, actor=actor or None,
                                    action=action or None, subject=subject or None)
    return AuditPageOut(
        events=[AuditEventOut(**e.to_dict()) for e in events],
        # A full page may have more after it; a short one is the end of the trail.
        next_after_seq=events[-1].seq if len(events) == limit else None,
    )


def verify(svc) -> AuditVerificationOut:
    """The chain checked with its key and against the last signed checkpoint (patrol.audit_anchor)."""
    v = verify_anchored(svc.store, svc.checkpoints)
    return AuditVerificationOut(ok=v.ok, checked=v.checked, first_bad_seq=v.first_bad_seq, reason=v.reason,
                                problem=v.problem, keyed=v.keyed, checkpoint_seq=v.checkpoint_seq,
                                checkpoint_at=v.checkpoint_at)
