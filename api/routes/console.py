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

from api.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from api.console_text import mask_text
# What the console's route modules share (api/console_web.py); LoginRequired and login_redirect
# are re-exported for api.main.
from api.console_web import (
    check_csrf, console_caller, error_page, is_https, render, safe_next,
)
from api.deps import Caller, client_address, services
from api.errors import query_error_detail
from api.services import audit as audit_service
from api.services.posts import load_post
from api.services.search import MAX_QUERY_LENGTH, run_search
from api.services.sources import source_rows
from api.services import users as user_service
from patrol.login_limits import LoginRefused
from patrol.sessions import CONSOLE
from patrol.store import NotFound
from patrol.taxonomy import HARM_CATEGORIES
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
    back = f"/console/alerts/{post.alert_id}" if post.alert_id else "/console/search"
    return render(request, "post.html", caller, post=post, nav="search", back_url=back,
                  masked_text=mask_text(post.text))


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
