"""The duty officers' console: server-rendered pages over the same functions as the JSON API.

Login sets a signed session cookie (HttpOnly, SameSite=Lax). Every console POST carries a CSRF
token in a hidden field: the login form's is a double-submit cookie (there is no session yet),
every later form's is derived from the session's nonce (api.auth.TokenSigner.csrf_for).
"""
from __future__ import annotations

import hmac
import logging
import secrets
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.auth import LOGIN_CSRF_COOKIE, REVIEWERS, SESSION_COOKIE
from api.console_labels import REVIEW_ACTION, STATUS
from api.console_text import highlight_post, trail_groups, visible
# What the console's route modules share (api/console_web.py); LoginRequired and login_redirect
# are re-exported for api.main.
from api.console_web import (
    LoginRequired, check_csrf, console_caller, error_page, is_https, login_redirect, redirect_with, render, safe_next,
)
from api.deps import Caller, client_address, services
from api.errors import DOMAIN_ERRORS, query_error_detail
from api.schemas import AlertPageOut, DecisionIn
from api.services import alerts as alert_service
from api.services import audit as audit_service
from api.services import evidence as evidence_service
from api.services.posts import load_post
from api.services.search import MAX_QUERY_LENGTH, run_search
from api.services.sources import source_rows
from api.services import users as user_service
from patrol.login_limits import LoginRefused
from patrol.sessions import CONSOLE
from patrol.alerts import ACTIVE_STATUSES, STATUSES
from patrol.reviews import DISMISS_REASONS, DISPOSITIONS, TransitionError
from patrol.store import InvalidFilter, NotFound
from patrol.taxonomy import ALERT_CATEGORIES, HARM_CATEGORIES, SEVERITIES
from search.index import IndexUnavailable, InvalidSearch, QuerySyntaxError

log = logging.getLogger("patrol.api")
router = APIRouter(prefix="/console", include_in_schema=False)
# --- login ----------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = Query("/console/", max_length=2000)):
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", None, csrf_token=token, next_url=safe_next(next))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, path="/console", httponly=True, samesite="strict",
                        secure=is_https(request), max_age=3600)
    return response


@router.post("/login")
def login(request: Request, username: str = Form("", max_length=64), password: str = Form("", max_length=200),
          csrf_token: str = Form("", max_length=200), next: str = Form("/console/", max_length=2000),
          svc=Depends(services)):
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        return error_page(request, None, 403, "登录表单已过期（CSRF 校验失败），请重新打开登录页。")
    try:
        user = user_service.authenticate(svc, username, password, client_address(request)) \
            if username and password else None
    except LoginRefused as exc:
        wait = f"请 {exc.retry_after} 秒后再试。" if exc.retry_after else "账号已锁定，请联系管理员解锁。"
        return render(request, "login.html", None, status_code=429, csrf_token=cookie,
                      next_url=safe_next(next), username=username, error=f"登录失败次数过多，{wait}")
    if user is None:
        return render(request, "login.html", None, status_code=401, csrf_token=cookie,
                      next_url=safe_next(next), username=username, error="用户名或密码错误。")
    signer = request.app.state.signer
    response = RedirectResponse(safe_next(next), status_code=303)
    credential = user_service.open_session(svc, signer, user, CONSOLE, client_address(request))
    response.set_cookie(SESSION_COOKIE, credential, max_age=signer.ttl_seconds,
                        path="/", httponly=True, samesite="lax", secure=is_https(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("", max_length=200), caller: Caller = Depends(console_caller),
           svc=Depends(services)):
    refused = check_csrf(request, caller, csrf_token)
    if refused:
        return refused
    user_service.logout(svc, caller.username, caller.nonce)  # the cookie, even copied, is dead now
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- the queue ------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def queue(
    request: Request,
    status: str = Query("", max_length=32), category: str = Query("", max_length=64),
    severity: str = Query("", max_length=16), source: str = Query("", max_length=200),
    assignee: str = Query("", max_length=64), q: str = Query("", max_length=200),
    cursor: str = Query("", max_length=500),
    caller: Caller = Depends(console_caller), svc=Depends(services),
):
    filters = {"status": status, "category": category, "severity": severity, "source": source,
               "assignee": assignee, "q": q}
    statuses = None if status == "all" else (status or ",".join(ACTIVE_STATUSES))
    flt = alert_service.alert_filter(status=statuses, category=category, severity=severity, source=source,
                                     assignee=assignee, q=q, opened_from=None, opened_to=None,
                                     sort="severity_then_due", limit=50, cursor=cursor)
    try:
        page = alert_service.list_page(svc, flt, datetime.now(timezone.utc))
    except InvalidFilter as exc:
        return render(request, "queue.html", caller, status_code=400, page=_empty_page(), filters=filters,
                      flash=f"筛选条件无效：{exc}", flash_kind="error", **_queue_choices(caller))
    next_query = urlencode({k: v for k, v in filters.items() if v} | {"cursor": page.next_cursor or ""})
    return render(request, "queue.html", caller, page=page, filters=filters, next_query=next_query,
                  **_queue_choices(caller))


def _empty_page() -> AlertPageOut:
    return AlertPageOut(items=[], next_cursor=None)


def _queue_choices(caller: Caller) -> dict:
    return {"statuses": STATUSES, "categories": ALERT_CATEGORIES, "severities": SEVERITIES,
            "can_review": caller.role in REVIEWERS, "nav": "queue"}


# --- one alert ------------------------------------------------------------------------------

@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: str, caller: Caller = Depends(console_caller), svc=Depends(services)):
    try:
        a = alert_service.get_detail(svc, alert_id)
    except NotFound:
        return error_page(request, caller, 404, f"没有编号为 {alert_id} 的告警。")
    audit_service.viewed(svc, caller.username, "alert", alert_id, via="console")
    evidence = [e.model_dump() for e in a.evidence]
    scores = sorted(a.scores.items(), key=lambda kv: -kv[1])
    title_segments, segments = highlight_post(a.post.title, a.post.text, evidence)
    return render(request, "alert.html", caller, a=a, nav="queue", ctx=evidence_service.detail_blocks(svc, alert_id),
                  title_segments=title_segments, segments=segments,
                  trail=trail_groups([t.model_dump() for t in a.trail]),
                  scores=scores, dispositions=DISPOSITIONS, reasons=DISMISS_REASONS,
                  harm_categories=HARM_CATEGORIES, can_review=caller.role in REVIEWERS)


def _act(request: Request, caller: Caller, csrf_token: str, alert_id: str, action, done: str,
         back: str = "") -> Response:
    """Run one review step for a console form and come back with what happened."""
    refused = check_csrf(request, caller, csrf_token)
    if refused:
        return refused
    target = "/console/" if back == "queue" else f"/console/alerts/{alert_id}"
    if caller.role not in REVIEWERS:
        return redirect_with(request, target, "当前角色无权处置告警。", "error")
    try:
        action()
    except TransitionError as exc:
        verb = REVIEW_ACTION.get(exc.action, exc.action)
        state = STATUS.get(exc.state, exc.state)
        return redirect_with(request, target, f"操作未完成：无法{verb}此告警（当前状态：{state}）。{exc.message}", "error")
    except tuple(DOMAIN_ERRORS) as exc:
        return redirect_with(request, target, f"操作未完成：{exc}", "error")
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return redirect_with(request, target, f"操作未完成：{problems}", "error")
    return redirect_with(request, target, done)


@router.post("/alerts/{alert_id}/claim")
def claim(request: Request, alert_id: str, csrf_token: str = Form("", max_length=200),
          back: str = Form("", max_length=20), caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _act(request, caller, csrf_token, alert_id,
                lambda: alert_service.claim(svc, caller.username, alert_id), "已认领。", back)


@router.post("/alerts/{alert_id}/release")
def release(request: Request, alert_id: str, csrf_token: str = Form("", max_length=200),
            caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _act(request, caller, csrf_token, alert_id,
                lambda: alert_service.release(svc, caller.username, alert_id), "已释放。")


@router.post("/alerts/{alert_id}/decision")
def decide(request: Request, alert_id: str, csrf_token: str = Form("", max_length=200),
           action: str = Form("", max_length=20), disposition: str = Form("", max_length=40),
           reason: str = Form("", max_length=40), note: str = Form("", max_length=5000),
           category: str = Form("", max_length=40),
           caller: Caller = Depends(console_caller), svc=Depends(services)):
    def run():
        # A <select> left at "—" sends "", which means "not given".
        body = DecisionIn(action=action, note=note,
                          disposition=disposition or None if action == "confirm" else None,
                          reason=reason or None if action == "dismiss" else None,
                          category=category or None if action == "confirm" else None)
        alert_service.decide(svc, caller.username, alert_id, body)

    return _act(request, caller, csrf_token, alert_id, run, "结论已提交。")


@router.post("/alerts/{alert_id}/notes")
def note(request: Request, alert_id: str, csrf_token: str = Form("", max_length=200),
         text: str = Form("", max_length=5000), caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _act(request, caller, csrf_token, alert_id,
                lambda: alert_service.add_note(svc, caller.username, alert_id, text), "备注已添加。")


# --- search, posts, sources -----------------------------------------------------------------

def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} 日期格式应为 YYYY-MM-DD，收到 {value!r}") from None


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: str = Query("", max_length=MAX_QUERY_LENGTH), category: str = Query("", max_length=64),
    source: str = Query("", max_length=200), date_from: str = Query("", alias="from", max_length=20),
    date_to: str = Query("", alias="to", max_length=20), cursor: str = Query("", max_length=500),
    caller: Caller = Depends(console_caller), svc=Depends(services),
):
    form = {"q": q, "category": category, "source": source, "date_from": date_from, "date_to": date_to}
    base = {k: v for k, v in {"q": q, "category": category, "source": source, "from": date_from,
                              "to": date_to}.items() if v}

    def page(status_code: int = 200, **extra) -> Response:
        context = {"nav": "search", "categories": HARM_CATEGORIES, "result": None, "error": None, **form}
        return render(request, "search.html", caller, status_code=status_code, **(context | extra))

    if not base:
        return page()
    try:
        lo, hi = _day(date_from, "起始"), _day(date_to, "截止")
    except ValueError as exc:
        return page(400, error={"message": str(exc), "position": None, "query": q})
    try:
        result = run_search(
            svc, caller.username, q=q, category=category, source=source,
            published_from=datetime.combine(lo, time.min, timezone.utc) if lo else None,
            # The "to" day is included whole.
            published_to=datetime.combine(hi, time.min, timezone.utc) + timedelta(days=1, microseconds=-1) if hi else None,
            limit=20, cursor=cursor)
    except QuerySyntaxError as exc:
        return page(400, error=query_error_detail(exc))
    except InvalidSearch as exc:
        return page(400, error={"message": str(exc), "position": None, "query": q})
    except IndexUnavailable as exc:
        log.warning("console search: index unavailable: %s", exc)
        return page(503, error={"message": "检索服务暂不可用，请稍后再试。", "position": None, "query": q})

    def facet_query(name: str, value: str) -> str:
        return urlencode(base | {name: value})

    next_query = urlencode(base | {"cursor": result.next_cursor or ""})
    return page(result=result, facet_query=facet_query, next_query=next_query)


@router.get("/posts/{post_id}", response_class=HTMLResponse)
def post_page(request: Request, post_id: str, caller: Caller = Depends(console_caller), svc=Depends(services)):
    try:
        post = load_post(svc, post_id)
    except NotFound:
        return error_page(request, caller, 404, f"没有编号为 {post_id} 的帖子。")
    audit_service.viewed(svc, caller.username, "post", post_id, via="console")
    return render(request, "post.html", caller, post=post, nav="search")


SOURCE_COLUMNS = (("source", "信源"), ("last_success_at", "最近成功"), ("last_pass_at", "最近一轮"),
                  ("items_last_pass", "上轮条数"), ("errors_last_pass", "上轮错误"),
                  ("consecutive_empty", "连续空轮"), ("passes", "总轮次"))


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, caller: Caller = Depends(console_caller), svc=Depends(services)):
    rows = []
    for s in source_rows(svc):
        row = s.model_dump()
        row["name"] = s.source
        row["healthy"] = s.consecutive_empty == 0
        row["errors_last_pass"] = ", ".join(f"{k}: {v}" for k, v in s.errors_last_pass.items()) or "—"
        rows.append(row)
    return render(request, "sources.html", caller, nav="sources", sources=rows,
                  columns=[label for _, label in SOURCE_COLUMNS], keys=[key for key, _ in SOURCE_COLUMNS])
