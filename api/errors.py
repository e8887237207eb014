"""How failures become HTTP answers. Everything a caller caused is a 4xx with `{"detail": ...}`;
a 500 means a bug in Patrol, is logged with its traceback, and says nothing about internals."""
from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

from patrol.login_limits import LoginRefused
from patrol.reviews import DecisionError, PermissionDenied, TransitionError
from patrol.store import InvalidFilter, NotFound, StoreUnavailable, UserExists
from patrol.users import UserError
from search.index import IndexUnavailable, InvalidSearch, QuerySyntaxError

log = logging.getLogger("patrol.api")

# The core's refusals and the HTTP status each one means; the message is the detail. The console
# catches the same types to turn them into a flash message instead.
from patrol.events.watchlists import WatchListError  # noqa: E402  (the watch-lists' refusals)

DOMAIN_ERRORS: dict[type[Exception], int] = {
    TransitionError: 409,   # wrong state, or held by someone else
    PermissionDenied: 403,  # the role may not take this step on this alert
    DecisionError: 422,     # a decision missing its disposition, reason or note
    NotFound: 404,
    InvalidFilter: 400,     # a bad filter value or a cursor this server did not issue
    UserExists: 409,
    UserError: 422,
    WatchListError: 422,    # a watch-list term too broad, too short, or the shipped list
}


class ApiError(Exception):
    """A user-caused failure raised below the routes (e.g. a bad cursor) with its status."""

    def __init__(self, status_code: int, detail):
        super().__init__(str(detail))
        self.status_code = status_code
        self.detail = detail


# How much of a message or a field name a 422 repeats: a field name is the caller's input too.
_MAX_LOC_PART, _MAX_MSG = 100, 300


def validation_body(errors) -> str:
    """A 422's body: each problem's place and reason in words (api.schemas.ValidationErrorOut),
    never the input (FastAPI's own answer repeated it whole: 10 MB in, 10 MB out). ASCII JSON, so
    a lone surrogate in a field name cannot turn the 422 into a 500."""
    problems = []
    for e in errors:
        loc = [p if isinstance(p, int) else str(p)[:_MAX_LOC_PART] for p in e.get("loc", ())]
        problems.append({"loc": loc, "msg": str(e.get("msg", "invalid"))[:_MAX_MSG],
                         "type": str(e.get("type", "value_error"))})
    return json.dumps({"detail": problems}, ensure_ascii=True)


def query_error_detail(exc: QuerySyntaxError) -> dict:
    return {"message": exc.message, "position": exc.position, "query": exc.query}


def install_error_handlers(app: FastAPI) -> None:
    """The handlers of the whole app: validation, search and backend failures, DOMAIN_ERRORS, and
    a logged 500 for everything else."""

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError):
        return Response(validation_body(exc.errors()), status_code=422, media_type="application/json")

    @app.exception_handler(LoginRefused)
    async def _login_refused(request: Request, exc: LoginRefused):
        # Retry-After only when waiting helps; a locked account waits for an admin.
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
        return JSONResponse({"detail": exc.message}, status_code=429, headers=headers)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(QuerySyntaxError)
    async def _query_syntax(request: Request, exc: QuerySyntaxError):
        return JSONResponse({"detail": query_error_detail(exc)}, status_code=400)

    @app.exception_handler(InvalidSearch)
    async def _invalid_search(request: Request, exc: InvalidSearch):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(IndexUnavailable)
    async def _index_down(request: Request, exc: IndexUnavailable):
        log.warning("search index unavailable: %s", exc)
        return JSONResponse(
            {"detail": f"the search index is unavailable, try again later ({exc})"}, status_code=503
        )

    @app.exception_handler(StoreUnavailable)
    async def _store_down(request: Request, exc: StoreUnavailable):
        log.warning("workflow database unavailable: %s", exc)  # the URL goes to the log only
        return JSONResponse({"detail": "the workflow database is unavailable, nothing was changed; "
                                       "try again later"}, status_code=503)

    for exc_type, status in DOMAIN_ERRORS.items():
        app.add_exception_handler(exc_type, _status_handler(status))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if request.url.path.startswith("/console"):
            # Plain markup, no template: the templates themselves may be what failed.
            return HTMLResponse(_CONSOLE_500, status_code=500)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)


_CONSOLE_500 = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>500 · Patrol</title>'
    '<body style="font-family:sans-serif;margin:48px"><h1>500</h1><p id="error-detail">'
    '系统内部错误，已记录日志。请稍后重试，或联系管理员。</p><p><a href="/console/">返回告警队列</a></p></body></html>'
)


def _status_handler(status: int):
    async def handler(request: Request, exc: Exception):
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handler
