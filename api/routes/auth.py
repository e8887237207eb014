"""POST /api/auth/token (OAuth2 password flow) and GET /api/auth/me."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import Caller, READERS_DEP, services, signer
from api.schemas import MeOut, TokenOut
from api.services.users import authenticate

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut, summary="Exchange a user name and password for a bearer token")
def issue_token(form: OAuth2PasswordRequestForm = Depends(), svc=Depends(services), sign=Depends(signer)) -> TokenOut:
    user = authenticate(svc, form.username, form.password)
    if user is None:
        raise HTTPException(status_code=401, detail="wrong user name or password",
                            headers={"WWW-Authenticate": "Bearer"})
    return TokenOut(access_token=sign.issue_token(user.name), expires_in=sign.ttl_seconds, role=user.role)


@router.get("/me", response_model=MeOut, summary="Who the token belongs to")
def me(caller: Caller = READERS_DEP) -> MeOut:
    return MeOut(name=caller.username, role=caller.role)
