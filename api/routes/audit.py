"""GET /api/audit and /api/audit/verify: the audit trail, for auditors and admins only."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from api.deps import AUDITORS_DEP, Caller, services
from api.schemas import AuditPageOut, AuditVerificationOut
from api.services import audit as audit_service

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
    return audit_service.events_page(svc, after_seq=after_seq, limit=limit, actor=actor, action=action,
                                     subject=subject)


@router.get("/verify", response_model=AuditVerificationOut, summary="Recompute the hash chain")
def verify(caller: Caller = AUDITORS_DEP, svc=Depends(services)) -> AuditVerificationOut:
    return audit_service.verify(svc)
