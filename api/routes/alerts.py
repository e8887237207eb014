"""The alert queue and the review workflow over HTTP (the work itself is api.services.alerts)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query

from api.deps import Caller, READERS_DEP, REVIEWERS_DEP, SUPERVISORS_DEP, now, services
from api.schemas import AlertDetailOut, AlertPageOut, BulkIn, BulkOut, DecisionIn, NoteIn
from api.services import alerts as alert_service
from api.services import audit as audit_service

router = APIRouter(prefix="/api/alerts", tags=["alerts"])

SortKey = Literal["severity_then_due", "newest", "oldest", "due"]


@router.get("", response_model=AlertPageOut, summary="The alert queue, filtered and sorted")
def list_alerts(
    status: str | None = Query(None, max_length=100, description="open|claimed|escalated|confirmed|dismissed; comma-separated for several"),
    category: str | None = Query(None, max_length=64),
    severity: str | None = Query(None, max_length=16),
    source: str | None = Query(None, max_length=200),
    assignee: str | None = Query(None, max_length=64),
    q: str | None = Query(None, max_length=200, description="substring of the frozen post's title or text"),
    opened_from: datetime | None = None,
    opened_to: datetime | None = None,
    sort: SortKey = Query("severity_then_due", description="the queue order is severity, then due time"),
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=500),
    caller: Caller = READERS_DEP,
    svc=Depends(services),
) -> AlertPageOut:
    flt = alert_service.alert_filter(status=status, category=category, severity=severity, source=source,
                                     assignee=assignee, q=q, opened_from=opened_from, opened_to=opened_to,
                                     sort=sort, limit=limit, cursor=cursor)
    return alert_service.masked_page(alert_service.list_page(svc, flt, now()))


@router.get("/{alert_id}", response_model=AlertDetailOut, summary="One alert with its frozen post, evidence and history")
def get_alert(alert_id: str, reveal: bool = Query(False, description="personal identifiers in full (officers and "
                                                                    "supervisors; each reveal is audited)"),
              caller: Caller = READERS_DEP, svc=Depends(services)) -> AlertDetailOut:
    detail = alert_service.shown_detail(svc, caller.username, alert_id, reveal)
    audit_service.viewed(svc, caller.username, "alert", alert_id, via="api")
    return detail


@router.post("/{alert_id}/claim", response_model=AlertDetailOut, summary="Take the alert")
def claim_alert(alert_id: str, caller: Caller = REVIEWERS_DEP, svc=Depends(services)) -> AlertDetailOut:
    alert_service.claim(svc, caller.username, alert_id)
    return alert_service.shown_detail(svc, caller.username, alert_id)


@router.post("/{alert_id}/release", response_model=AlertDetailOut, summary="Give the alert back to its queue")
def release_alert(alert_id: str, caller: Caller = REVIEWERS_DEP, svc=Depends(services)) -> AlertDetailOut:
    alert_service.release(svc, caller.username, alert_id)
    return alert_service.shown_detail(svc, caller.username, alert_id)


@router.post("/{alert_id}/decision", response_model=AlertDetailOut, summary="Confirm, dismiss or escalate")
def decide_alert(alert_id: str, body: DecisionIn, caller: Caller = REVIEWERS_DEP, svc=Depends(services)) -> AlertDetailOut:
    alert_service.decide(svc, caller.username, alert_id, body)
    return alert_service.shown_detail(svc, caller.username, alert_id)


@router.post("/{alert_id}/notes", response_model=AlertDetailOut, status_code=201, summary="Add a note")
def note_alert(alert_id: str, body: NoteIn, caller: Caller = REVIEWERS_DEP, svc=Depends(services)) -> AlertDetailOut:
    alert_service.add_note(svc, caller.username, alert_id, body.text)
    return alert_service.shown_detail(svc, caller.username, alert_id)


@router.post("/bulk", response_model=BulkOut, summary="One action on many alerts (supervisors)")
def bulk(body: BulkIn, caller: Caller = SUPERVISORS_DEP, svc=Depends(services)) -> BulkOut:
    """Each alert succeeds or fails on its own; the answer says which and why, in request order.
    A decision on an open alert claims it for the caller first."""
    return alert_service.bulk(svc, caller.username, body)
