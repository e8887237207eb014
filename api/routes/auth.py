"""POST /api/auth/token (OAuth2 password flow), POST /api/auth/logout and GET /api/auth/me."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request

from api.deps import Caller, READERS_DEP, client_address, services, signer
from api.schemas import MeOut, TokenOut
from api.services import users as user_service
from patrol.sessions import TOKEN

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut, summary="Exchange a user name and password for a bearer token",
             description="Too many failed logins for an account or from an address are answered 429 "
                         "(with Retry-After) without checking the password; an account locked after "
                         "repeated failures stays 429 until an admin unlocks it.")
def issue_token(request: Request,
                # The OAuth2 password form, with its sizes in the schema (an empty field is "missing").
                # Generous caps: a name no user can have is still a failed login, counted and audited.
                username: str = Form(min_length=1, max_length=1000),
                password: str = Form(min_length=1, max_length=1000),
                grant_type: str | None = Form(None, pattern="^password$"),
                svc=Depends(services), sign=Depends(signer)) -> TokenOut:
    user = user_service.authenticate(svc, username, password, client_address(request))
    if user is None:
        raise HTTPException(status_code=401, detail="wrong user name or password",
                            headers={"WWW-Authenticate": "Bearer"})
    token = user_service.open_session(svc, sign, user, TOKEN, client_address(request))
    return TokenOut(access_token=token, expires_in=sign.ttl_seconds, role=user.role)


@router.post("/logout", status_code=204, summary="End the session of this token (or console cookie) for good")
def logout(caller: Caller = READERS_DEP, svc=Depends(services)) -> None:
    user_service.logout(svc, caller.username, caller.nonce)


@router.get("/me", response_model=MeOut, summary="Who the token belongs to")
def me(caller: Caller = READERS_DEP) -> MeOut:
    return MeOut(name=caller.username, role=caller.role)
