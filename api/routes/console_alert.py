"""One alert in the console: its page, and the forms that review it (claim or take over, release,
assign, decide, note) and the audited reveal of a masked identifier.

A refused step never loses what the officer typed: the page is rendered again with the typed
values and a Chinese message saying what happened (someone else decided a second earlier, the
form was stale, a field was missing), and nothing is changed.
"""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError

from api import alert_views
from api.auth import REVIEWERS, SUPERVISORS
from api.console_labels import DECISION, OUTCOME, fmt_time
from api.console_messages import explain
from api.console_web import burst_trend, check_csrf, console_caller, error_page, redirect_with, render
from api.console_text import highlight_post, trail_groups
from api.deps import Caller, services
from api.errors import DOMAIN_ERRORS
from api.schemas import DecisionIn
from api.services import alerts as alert_service
from api.services import audit as audit_service
from api.services import evidence as evidence_service
from patrol import dispositions
from patrol.identifiers import KIND_ZH, find_identifiers
from patrol.reviews import DISMISS_REASONS, DecisionError, PermissionDenied, TransitionError
from patrol.store import NotFound, StoreUnavailable
from patrol.taxonomy import HARM_CATEGORIES
from patrol.users import SUPERVISOR

router = APIRouter(prefix="/console", include_in_schema=False)

# Text an officer may want to see only when they choose to: blurred until clicked.
SENSITIVE_CATEGORIES = frozenset({"porn_sexual", "violence_terror"})
REFUSALS = tuple(DOMAIN_ERRORS) + (StoreUnavailable,)
CSRF_REFUSED = "表单已过期或来源不明（CSRF 校验失败），未作任何更改。您填写的内容保留在下方，请重新选择后提交。"


def review_choices(a, caller: Caller) -> dict:
    """Which review controls this caller gets on this alert: only the ones that would succeed
    (no 认领 on an escalated alert for an officer; 接管 instead of 认领 on someone else's claim)."""
    me, sup = caller.username, caller.role == SUPERVISOR
    reviewer = caller.role in REVIEWERS
    active = a.status in ("open", "claimed", "escalated")
    held_by_other = a.assignee is not None and a.assignee != me
    can_claim = reviewer and active and (
        (a.status == "open") or (a.status == "claimed" and sup and held_by_other)
        or (a.status == "escalated" and sup and a.assignee != me))
    return {
        "can_review": reviewer,
        "can_claim": can_claim,
        "claim_label": "接管" if held_by_other else "认领",
        "can_release": reviewer and a.assignee is not None and (a.assignee == me or sup) and a.status in ("claimed", "escalated"),
        "can_decide": reviewer and a.assignee == me and a.status in ("claimed", "escalated"),
        "can_assign": caller.role in SUPERVISORS and active,
    }


def alert_view(request: Request, caller: Caller, svc, alert_id: str, status_code: int = 200,
               form: dict | None = None, error: str | None = None, revealed: frozenset[int] = frozenset()) -> Response:
    try:
        d = alert_service.read_detail(svc, alert_id)
    except NotFound:
        return error_page(request, caller, 404, f"没有编号为 {alert_id} 的告警。")
    a = alert_views.detail(d, datetime.now(timezone.utc))
    evidence = [e.model_dump() for e in a.evidence]
    scores = sorted(a.scores.items(), key=lambda kv: -kv[1])
    title_segments, segments = highlight_post(a.post.title, a.post.text, evidence, revealed)
    # Every masked identifier, each with its own reveal form: the way to see one without JavaScript.
    identifiers = [i for i in find_identifiers(a.post.analysed_text) if i.index not in revealed]
    choices = review_choices(a, caller)
    reviewers = ([u for u in svc.store.list_users() if u.can_review] if choices["can_assign"] else [])
    minor = a.rule.endswith("+minor") or any(e.term == "minor" or e.term.startswith("minor:") for e in a.evidence)
    # A burst alert has no post: what justifies it is its series (patrol/events/bursts.py).
    trend = burst_trend(svc.store.get_alert(alert_id).alert.analysis) if a.category == "ops_trend" else None
    return render(request, "alert.html", caller, status_code=status_code, a=a, nav="queue",
                  trend=trend[0] if trend else None, trend_json=trend[1] if trend else "",
                  title_segments=title_segments, segments=segments,
                  trail=trail_groups([t.model_dump() for t in a.trail]), scores=scores,
                  dispositions=[(d, OUTCOME.get(d, d)) for d in dispositions.for_category(a.category)],
                  reasons=DISMISS_REASONS, form=form or {}, error=error, minor=minor,
                  sensitive=bool(SENSITIVE_CATEGORIES & {a.category, *a.labels}), identifier_kinds=KIND_ZH,
                  reviewers=reviewers, harm_categories=HARM_CATEGORIES, identifiers=identifiers,
                  revealed_count=len(revealed),
                  ctx=evidence_service.detail_blocks(svc, d), **choices)


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: str, caller: Caller = Depends(console_caller), svc=Depends(services)):
    response = alert_view(request, caller, svc, alert_id)
    if response.status_code != 404:  # who viewed which alert is an audit event (issue 12)
        audit_service.viewed(svc, caller.username, "alert", alert_id, via="console")
    return response


def queue_url(query: str) -> str:
    """The queue with the officer's filters (re-encoded: only well-formed pairs get through)."""
    pairs = parse_qsl(query or "")[:10]
    return "/console/?" + urlencode(pairs) if pairs else "/console/"


def _step(request: Request, caller: Caller, svc, csrf_token: str, alert_id: str, action, done: str,
          back: str = "", form: dict | None = None, query: str = "") -> Response:
    """Run one review step for a console form: on success back (to the queue or the alert) with
    `done`; on a refusal the alert page again, with the typed `form` and the reason in Chinese."""
    target = queue_url(query) if back == "queue" else f"/console/alerts/{alert_id}"
    if check_csrf(request, caller, csrf_token) is not None:
        # Typed text comes back; chosen options do not, so a forged form cannot be one click from sent.
        kept = {k: v for k, v in (form or {}).items() if k in ("note", "note_text")}
        return alert_view(request, caller, svc, alert_id, 403, kept, CSRF_REFUSED)
    if caller.role not in REVIEWERS:
        return alert_view(request, caller, svc, alert_id, 403, form, "当前角色无权处置告警。")
    try:
        action()
    except ValidationError:
        return alert_view(request, caller, svc, alert_id, 422, form, "提交的结论含有无效的选项，请重新选择。")
    except REFUSALS as exc:
        message = explain(exc)
        if isinstance(exc, TransitionError) and exc.reason == "already_decided":
            message = _decided_by_someone(svc, alert_id) or message
        status = 503 if isinstance(exc, StoreUnavailable) else DOMAIN_ERRORS.get(type(exc), 409)
        if back == "queue" and not form:
            return redirect_with(request, target, f"操作未完成：{message}", "error")
        return alert_view(request, caller, svc, alert_id, status, form, f"操作未完成：{message}")
    return redirect_with(request, target, done)


def _decided_by_someone(svc, alert_id: str) -> str | None:
    d = svc.store.get_alert(alert_id)
    if d is None or d.alert.decided_by is None:
        return None
    a = d.alert
    return (f"{a.decided_by} 已于 {fmt_time(a.decided_at)} 作出结论（{DECISION.get(a.decision, a.decision)}），"
            "您的结论未提交；您填写的内容保留在下方。")


@router.post("/alerts/{alert_id}/claim")
def claim(request: Request, alert_id: str, csrf_token: str = Form("", max_length=200),
          back: str = Form("", max_length=20), query: str = Form("", max_length=2000),
          caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _step(request, caller, svc, csrf_token, alert_id,
                 lambda: alert_service.claim(svc, caller.username, alert_id), "已认领。", back, query=query)


@router.post("/alerts/{alert_id}/release")
def release(request: Request, alert_id: str, csrf_token: str = Form("", max_length=200),
            caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _step(request, caller, svc, csrf_token, alert_id,
                 lambda: alert_service.release(svc, caller.username, alert_id), "已释放。")


@router.post("/alerts/{alert_id}/assign")
def assign(request: Request, alert_id: str, csrf_token: str = Form("", max_length=200),
           assignee: str = Form("", max_length=64), caller: Caller = Depends(console_caller), svc=Depends(services)):
    if not assignee:
        return alert_view(request, caller, svc, alert_id, 422, {}, "请选择要指派的处理人。")
    return _step(request, caller, svc, csrf_token, alert_id,
                 lambda: alert_service.assign(svc, caller.username, alert_id, assignee), f"已指派给 {assignee}。")


@router.post("/alerts/{alert_id}/decision")
def decide(request: Request, alert_id: str, csrf_token: str = Form("", max_length=200),
           action: str = Form("", max_length=20), disposition: str = Form("", max_length=40),
           reason: str = Form("", max_length=40), note: str = Form("", max_length=5000),
           back: str = Form("", max_length=20), claim_first: str = Form("", max_length=5),
           query: str = Form("", max_length=2000), category: str = Form("", max_length=40),
           caller: Caller = Depends(console_caller), svc=Depends(services)):
    form = {"action": action, "disposition": disposition, "reason": reason, "note": note, "category": category}

    def run():
        if action not in ("confirm", "dismiss", "escalate"):
            raise DecisionError("no decision chosen", "action_unknown")
        # A <select> left at "—" sends "", which means "not given".
        body = DecisionIn(action=action, note=note,
                          disposition=disposition or None if action == "confirm" else None,
                          reason=reason or None if action == "dismiss" else None,
                          # the officer's corrected category (issue 15: it becomes the post's label)
                          category=category or None if action == "confirm" else None)
        if claim_first:
            alert_service.decide_claiming(svc, caller.username, alert_id, body)
        else:
            alert_service.decide(svc, caller.username, alert_id, body)

    return _step(request, caller, svc, csrf_token, alert_id, run, "结论已提交。", back, form, query)


@router.post("/alerts/{alert_id}/notes")
def note(request: Request, alert_id: str, csrf_token: str = Form("", max_length=200),
         text: str = Form("", max_length=5000), caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _step(request, caller, svc, csrf_token, alert_id,
                 lambda: alert_service.add_note(svc, caller.username, alert_id, text), "备注已添加。",
                 form={"note_text": text})


@router.post("/alerts/{alert_id}/reveal")
def reveal(request: Request, alert_id: str, index: int = Form(-1, ge=-1, le=10_000),
           csrf_token: str = Form("", max_length=200), show: str = Form("", max_length=10),
           caller: Caller = Depends(console_caller), svc=Depends(services)):
    """The full value of one masked identifier (an audit event either way): as JSON for console.js,
    or, from the page's reveal form (`show=page`, no JavaScript needed), the alert page drawn
    again with that identifier in full."""
    page = show == "page"
    if check_csrf(request, caller, csrf_token) is not None:
        message = "页面已过期（CSRF 校验失败），请刷新后重试。"
        return (alert_view(request, caller, svc, alert_id, 403, error=message) if page
                else JSONResponse({"error": message}, status_code=403))
    try:
        ident = alert_service.reveal_identifier(svc, caller.username, alert_id, index)
    except REFUSALS as exc:
        message = ("当前角色无权查看完整身份信息（需要值班员或主管），此次请求未显示任何内容。"
                   if isinstance(exc, PermissionDenied) else explain(exc))
        status = DOMAIN_ERRORS.get(type(exc), 409)
        return (alert_view(request, caller, svc, alert_id, status, error=message) if page
                else JSONResponse({"error": message}, status_code=status))
    if page:
        return alert_view(request, caller, svc, alert_id, revealed=frozenset({ident.index}))
    return JSONResponse({"index": ident.index, "kind": ident.kind, "value": ident.value},
                        headers={"Cache-Control": "no-store"})
