"""What every console page module shares: the templates, the logged-in caller, rendering with the
console's headers (CSP, no-store), one-shot messages across a redirect, and the CSRF check.

Route modules never import each other (lint-imports), so the console's page modules (console,
console_queue, console_alert, console_live, console_pages, console_users, labelling_console,
opinion_console) all take these from here.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api import console_labels
from api.auth import FlashSigner
from api.console_text import mask_text, visible
from api.deps import Caller, session_caller

log = logging.getLogger("patrol.api")
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "console" / "templates")


def query_with(query: str, key: str, value: str) -> str:
    """The queue's query string with one filter set (the count chips' links)."""
    from urllib.parse import parse_qsl
    pairs = [(k, v) for k, v in parse_qsl(query) if k not in (key, "cursor")]
    return urlencode(pairs + [(key, value)])


templates.env.globals.update(console_labels.template_globals(), visible=visible, mask_text=mask_text,
                             query_with=query_with)


class LoginRequired(Exception):
    def __init__(self, next_url: str):
        self.next_url = next_url


async def login_redirect(request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse(f"/console/login?{urlencode({'next': exc.next_url})}", status_code=303)


def console_caller(request: Request) -> Caller:
    caller = session_caller(request)
    if caller is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    _seen(request, caller.username)
    return caller


PRESENCE_EVERY_SECONDS = 60


def _seen(request: Request, username: str) -> None:
    """Record that the user is at the console (who is "on shift" for a passed deadline), at most
    once a minute per user and process, so a page view does not become a database write."""
    last = request.app.state.__dict__.setdefault("presence_written", {})
    now = datetime.now(timezone.utc)
    previous = last.get(username)
    if previous is None or (now - previous).total_seconds() >= PRESENCE_EVERY_SECONDS:
        last[username] = now
        request.app.state.services.store.touch_presence(username, now)


def _flash(request: Request) -> tuple[str, str] | None:
    return FlashSigner(request.app.state.secret_key).loads(request.cookies.get(FlashSigner.COOKIE))


def render(request: Request, name: str, caller: Caller | None, status_code: int = 200, **context) -> Response:
    flash = _flash(request)
    ctx = {
        "caller": caller,
        "csrf_token": request.app.state.signer.csrf_for(caller.nonce) if caller else context.pop("csrf_token", ""),
        "flash": flash[0] if flash else context.pop("flash", None),
        "flash_kind": flash[1] if flash else context.pop("flash_kind", None),
        **context,
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    # The console loads nothing from elsewhere; say so, so injected markup could not either.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    if flash:
        response.delete_cookie(FlashSigner.COOKIE, path="/console")
    return response


def error_page(request: Request, caller: Caller | None, status: int, detail: str) -> Response:
    return render(request, "error.html", caller, status_code=status, status=status, detail=detail)


def redirect_with(request: Request, url: str, message: str, kind: str = "info") -> Response:
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(FlashSigner.COOKIE, FlashSigner(request.app.state.secret_key).dumps(message, kind),
                        path="/console", httponly=True, samesite="lax", secure=is_https(request))
    return response


def is_https(request: Request) -> bool:
    """Cookies are marked Secure when the console is reached over HTTPS (directly, or through a
    proxy uvicorn trusts for X-Forwarded-Proto); on plain-HTTP loopback, as in the demo, a Secure
    cookie would never come back."""
    return request.url.scheme == "https"


def check_csrf(request: Request, caller: Caller, token: str) -> Response | None:
    if request.app.state.signer.csrf_matches(caller.nonce, token):
        return None
    return error_page(request, caller, 403, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。")


def safe_next(url: str | None) -> str:
    """Only our own console pages: a login link must not send the officer elsewhere."""
    if not url:
        return "/console/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console") or url.startswith("//"):
        return "/console/"
    return url


def burst_trend(analysis: dict | None) -> tuple[dict, str] | None:
    """A burst (ops_trend) alert's `analysis.trend` for its chart (_trend_chart.html) and the same
    as JSON for the page's script; None when the alert carries no series to draw."""
    import json

    trend = (analysis or {}).get("trend") if isinstance(analysis, dict) else None
    if not isinstance(trend, dict) or not isinstance(trend.get("series"), list):
        return None
    series = [{"hour": str(p.get("hour", "")), "count": int(p.get("count", 0))}
              for p in trend["series"] if isinstance(p, dict)]
    shown = {"label": str(trend.get("label", "")), "window_start": str(trend.get("window_start", "")),
             "current": int(trend.get("current", 0)), "expected": float(trend.get("expected", 0.0)),
             "score": float(trend.get("score", 0.0)), "series": series}
    # </script> cannot end the JSON block early: "<" is escaped.
    return shown, json.dumps(shown, ensure_ascii=False).replace("<", "\\u003c")
