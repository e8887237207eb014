"""GET /api/audit and /api/audit/verify: the audit trail, for auditors and admins only."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from api.deps import AUDITORS_DEP, Caller, services
from api.schemas import AuditEventOut, AuditPageOut, AuditVerificationOut

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", response_model=AuditPageOut, summary="Audit events in order, after a sequence number")
def list_events(
    after_seq: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
    actor: str | None = Query(None, max_length=64),
    action: str | None = Query(None, max_length=40),
    subject: str | None = Query(None, max_length=200),
    caller: Caller = AUDITORS_DEP,
    svc=Depends(services),
) -> AuditPageOut:
    events = svc.store.audit_events(after_seq=after_seq, limit=limit, actor=actor or None,
                                    action=action or None, subject=subject or None)
    return AuditPageOut(
        events=[AuditEventOut(**e.to_dict()) for e in events],
        next_after_seq=events[-1].seq if len(events) == limit else None,
    )


@router.get("/verify", response_model=AuditVerificationOut, summary="Recompute the hash chain")
def verify(caller: Caller = AUDITORS_DEP, svc=Depends(services)) -> AuditVerificationOut:
    v = svc.store.verify_audit()
    return AuditVerificationOut(ok=v.ok, checked=v.checked, first_bad_seq=v.first_bad_seq, reason=v.reason)
