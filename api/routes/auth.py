"""POST /api/auth/token (OAuth2 password flow) and GET /api/auth/me."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import Caller, READERS_DEP, services, signer
from api.schemas import MeOut, TokenOut
from patrol.users import UserError

router = APIRouter(prefix="/api/auth", tags=["auth"])


def authenticate(svc, username: str, password: str):
    """The user when the password is right and the user active, else None. The store audits
    every attempt as user.login, failures included: repeated failures are what an auditor looks for."""
    try:
        return svc.store.authenticate(username, password)
    except UserError:  # e.g. a password longer than bcrypt takes: simply not this user's password
        return None


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
