"""FastAPI dependencies: the services, the caller, and role checks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import (ADMINS, AUDITORS, LEXICON_KEEPERS, READERS, REVIEWERS, SESSION_COOKIE, SUPERVISORS,
                      Credential, TokenSigner)
from api.services.users import session_user

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Caller:
    """An authenticated user for the length of one request.

    via: "token" (bearer) or "session" (console cookie). nonce: the login session's nonce, from
    which its CSRF token is derived."""

    username: str
    role: str
    via: str
    nonce: str


def services(request: Request):
    return request.app.state.services


def signer(request: Request) -> TokenSigner:
    return request.app.state.signer


def now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """Naive datetimes from a form or query string are taken as UTC: the store and the index
    compare aware ones, and refuse naive ones."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def client_address(request: Request) -> str:
    """The peer's address, for the per-address login limit. Behind a reverse proxy this is the
    proxy unless uvicorn is told to trust its X-Forwarded-For (--forwarded-allow-ips)."""
    return request.client.host if request.client else ""


def session_caller(request: Request) -> Caller | None:
    """The console session's user, or None. Does not check CSRF: callers that change state do."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    cred = request.app.state.signer.verify_session(cookie)
    return _caller_for(request, cred, "session")


def _caller_for(request: Request, cred: Credential | None, via: str) -> Caller | None:
    if cred is None:
        return None
    # The signature says we issued it; the session row says it still counts (not logged out,
    # not ended by a password or role change, a deactivation or an admin) and gives the role now.
    user = session_user(request.app.state.services, cred.nonce)
    if user is None or user.name != cred.username:
        return None
    return Caller(username=user.name, role=user.role, via=via, nonce=cred.nonce)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


# Declares the bearer scheme in the OpenAPI schema (every route that needs a login says so); the
# header itself is read below, where a console session cookie may stand in for it.
_BEARER = HTTPBearer(auto_error=False, description="a token from POST /api/auth/token")


def current_caller(request: Request, _declared: HTTPAuthorizationCredentials | None = Depends(_BEARER)) -> Caller:
    """A bearer token, or else the console's session cookie. Cookie-authenticated requests that
    change state must carry the session's CSRF token in X-CSRF-Token, because browsers attach
    cookies to cross-site requests and bearer tokens they do not."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("Authorization header must be 'Bearer <token>'")
        caller = _caller_for(request, request.app.state.signer.verify_token(token.strip()), "token")
        if caller is None:
            raise _unauthorized("invalid, expired or ended token: get a new one at POST /api/auth/token")
        return caller
    caller = session_caller(request)
    if caller is None:
        raise _unauthorized("not authenticated: get a token at POST /api/auth/token")
    if request.method in UNSAFE_METHODS and not request.app.state.signer.csrf_matches(
        caller.nonce, request.headers.get(CSRF_HEADER)
    ):
        raise HTTPException(status_code=403, detail=f"missing or wrong {CSRF_HEADER} header")
    return caller


def require(roles: frozenset[str]) -> Callable[..., Caller]:
    """A dependency that admits only callers with one of `roles` (403 otherwise)."""

    def check(caller: Caller = Depends(current_caller)) -> Caller:
        if caller.role not in roles:
            raise HTTPException(
                status_code=403,
                detail=f"role '{caller.role}' may not do this; needs one of: {', '.join(sorted(roles))}",
            )
        return caller

    return check


# Ready-made dependencies for the role groups of api.auth.

READERS_DEP = Depends(require(READERS))
REVIEWERS_DEP = Depends(require(REVIEWERS))
SUPERVISORS_DEP = Depends(require(SUPERVISORS))
AUDITORS_DEP = Depends(require(AUDITORS))
LEXICON_KEEPERS_DEP = Depends(require(LEXICON_KEEPERS))
ADMINS_DEP = Depends(require(ADMINS))
