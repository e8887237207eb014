"""The alert queue and the review workflow over HTTP."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from api import alert_views
from api.deps import Caller, READERS_DEP, REVIEWERS_DEP, SUPERVISORS_DEP, as_utc, now, services
from api.schemas import AlertDetailOut, AlertPageOut, BulkIn, BulkItemOut, BulkOut, DecisionIn, NoteIn
from patrol.reviews import Decision, DecisionError, PermissionDenied, TransitionError
from patrol.store import AlertFilter, InvalidFilter, NotFound, UserExists
from patrol.users import UserError
from search.index import IndexUnavailable

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/alerts", tags=["alerts"])

# The core's refusals and the HTTP status each one means; main.py installs them as handlers.
STORE_ERRORS: dict[type[Exception], int] = {
    TransitionError: 409,   # wrong state, or held by someone else
    PermissionDenied: 403,  # the role may not take this step on this alert
    DecisionError: 422,     # a decision missing its disposition, reason or note
    NotFound: 404,
    InvalidFilter: 400,     # a bad filter value or a cursor this server did not issue
    UserExists: 409,
    UserError: 422,
}

SortKey = Literal["severity_then_due", "newest", "oldest", "due"]


def alert_filter(*, status, category, severity, source, assignee, q, opened_from, opened_to, sort, limit, cursor):
    statuses = tuple(s.strip() for s in status.split(",") if s.strip()) if status else None
    return AlertFilter(
        status=statuses or None, category=category or None, severity=severity or None,
        source=source or None, assignee=assignee or None, q=q or None,
        opened_from=as_utc(opened_from), opened_to=as_utc(opened_to),
        sort=sort, limit=limit, cursor=cursor or None,
    )


def list_page(svc, flt, at: datetime) -> AlertPageOut:
    page = svc.store.list_alerts(flt)
    return AlertPageOut(items=[alert_views.summary(a, at) for a in page.items], next_cursor=page.next_cursor)


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
    flt = alert_filter(status=status, category=category, severity=severity, source=source, assignee=assignee,
                       q=q, opened_from=opened_from, opened_to=opened_to, sort=sort, limit=limit, cursor=cursor)
    return list_page(svc, flt, now())


def get_detail(svc, alert_id: str) -> AlertDetailOut:
    d = svc.store.get_alert(alert_id)
    if d is None:
        raise HTTPException(status_code=404, detail=f"no alert with id {alert_id!r}")
    return alert_views.detail(d, now())


@router.get("/{alert_id}", response_model=AlertDetailOut, summary="One alert with its frozen post, evidence and history")
def get_alert(alert_id: str, caller: Caller = READERS_DEP, svc=Depends(services)) -> AlertDetailOut:
    return get_detail(svc, alert_id)


# The store re-reads the user inside its transaction, so passing the name is enough and a role
# change between authentication and the write cannot slip through.

def claim(svc, caller: Caller, alert_id: str) -> None:
    index_status(svc, svc.store.claim(alert_id, caller.username, now()))


def release(svc, caller: Caller, alert_id: str) -> None:
    index_status(svc, svc.store.release(alert_id, caller.username, now()))


def index_status(svc, alert) -> None:
    """Search filters on the alert's status (`status:open`), so the index follows each review
    step. The store is the record: an index that is down leaves the filter stale, not the step undone."""
    if alert.post_id is None:
        return
    try:
        svc.index.set_status(alert.post_id, alert.status)
    except IndexUnavailable as exc:
        log.warning("alert %s is %s, but the index still has its old status: %s", alert.id, alert.status, exc)


def to_decision(body: DecisionIn | BulkIn) -> Decision:
    return Decision(action=body.action, disposition=body.disposition, reason=body.reason, note=body.note)


def decide(svc, caller: Caller, alert_id: str, body: DecisionIn) -> None:
    index_status(svc, svc.store.decide(alert_id, to_decision(body), caller.username, now()))


def add_note(svc, caller: Caller, alert_id: str, text: str) -> None:
    svc.store.add_note(alert_id, caller.username, text, now())


@router.post("/{alert_id}/claim", response_model=AlertDetailOut, summary="Take the alert")
def claim_alert(alert_id: str, caller: Caller = REVIEWERS_DEP, svc=Depends(services)) -> AlertDetailOut:
    claim(svc, caller, alert_id)
    return get_detail(svc, alert_id)


@router.post("/{alert_id}/release", response_model=AlertDetailOut, summary="Give the alert back to its queue")
def release_alert(alert_id: str, caller: Caller = REVIEWERS_DEP, svc=Depends(services)) -> AlertDetailOut:
    release(svc, caller, alert_id)
    return get_detail(svc, alert_id)


@router.post("/{alert_id}/decision", response_model=AlertDetailOut, summary="Confirm, dismiss or escalate")
def decide_alert(alert_id: str, body: DecisionIn, caller: Caller = REVIEWERS_DEP, svc=Depends(services)) -> AlertDetailOut:
    decide(svc, caller, alert_id, body)
    return get_detail(svc, alert_id)


@router.post("/{alert_id}/notes", response_model=AlertDetailOut, status_code=201, summary="Add a note")
def note_alert(alert_id: str, body: NoteIn, caller: Caller = REVIEWERS_DEP, svc=Depends(services)) -> AlertDetailOut:
    add_note(svc, caller, alert_id, body.text)
    return get_detail(svc, alert_id)


@router.post("/bulk", response_model=BulkOut, summary="One action on many alerts (supervisors)")
def bulk(body: BulkIn, caller: Caller = SUPERVISORS_DEP, svc=Depends(services)) -> BulkOut:
    """Each alert succeeds or fails on its own; the answer says which and why, in request order.
    A decision on an open alert claims it for the caller first."""
    action = body.action if body.action in ("claim", "release") else to_decision(body)
    outcomes = svc.store.bulk(body.ids, action, caller.username, now())
    for o in outcomes:
        if o.ok:
            index_status(svc, svc.store.get_alert(o.alert_id).alert)
    return BulkOut(results=[BulkItemOut(id=o.alert_id, ok=o.ok, alert_status=o.status, detail=o.error)
                            for o in outcomes])
