"""/api/users: user management for admins: list, add, disable, enable, set the role, reset the
password, lift a login lockout, see and end sessions. The store checks that the actor is an active
admin and audits each change; a password or role change and a deactivation end the user's sessions."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Path

from api.deps import ADMINS_DEP, Caller, services
from api.schemas import (AccountOut, PasswordIn, RoleIn, SessionOut, SessionsEndedOut, UnlockOut, UserIn)
from api.services import users as user_service

router = APIRouter(prefix="/api/users", tags=["users"])
NAME = Path(max_length=64, description="the user's name")
SESSION_ID = Path(max_length=64, description="a session id from the user's session list")


def _account(svc, name: str) -> AccountOut:
    return next(a for a in user_service.accounts(svc) if a.name == name)


@router.get("", response_model=list[AccountOut], summary="Every user, with lockout and session state")
def list_users(caller: Caller = ADMINS_DEP, svc=Depends(services)) -> list[AccountOut]:
    return user_service.accounts(svc)


@router.post("", response_model=AccountOut, status_code=201, summary="Add a user (409 when the name is taken)")
def add_user(body: UserIn, caller: Caller = ADMINS_DEP, svc=Depends(services)) -> AccountOut:
    user = user_service.add_user(svc, caller.username, body.name, body.role, body.password)
    return _account(svc, user.name)


@router.post("/{name}/disable", response_model=AccountOut, summary="Deactivate a user and end their sessions")
def disable(name: str = NAME, caller: Caller = ADMINS_DEP, svc=Depends(services)) -> AccountOut:
    return _account(svc, user_service.set_active(svc, caller.username, name, False).name)


@router.post("/{name}/enable", response_model=AccountOut, summary="Reactivate a user")
def enable(name: str = NAME, caller: Caller = ADMINS_DEP, svc=Depends(services)) -> AccountOut:
    return _account(svc, user_service.set_active(svc, caller.username, name, True).name)


@router.post("/{name}/role", response_model=AccountOut, summary="Change a user's role (ends their sessions)")
def set_role(body: RoleIn, name: str = NAME, caller: Caller = ADMINS_DEP, svc=Depends(services)) -> AccountOut:
    return _account(svc, user_service.set_role(svc, caller.username, name, body.role).name)


@router.post("/{name}/password", response_model=AccountOut,
             summary="Set a new password (at least 8 characters, not a known default; ends their sessions)")
def reset_password(body: PasswordIn, name: str = NAME, caller: Caller = ADMINS_DEP,
                   svc=Depends(services)) -> AccountOut:
    return _account(svc, user_service.reset_password(svc, caller.username, name, body.password).name)


@router.post("/{name}/unlock", response_model=UnlockOut, summary="Lift a login lockout or back-off")
def unlock(name: str = NAME, caller: Caller = ADMINS_DEP, svc=Depends(services)) -> UnlockOut:
    return UnlockOut(lifted=user_service.unlock(svc, caller.username, name))


@router.get("/{name}/sessions", response_model=list[SessionOut], summary="A user's live sessions")
def sessions(name: str = NAME, caller: Caller = ADMINS_DEP, svc=Depends(services)) -> list[SessionOut]:
    return user_service.sessions_of(svc, caller.username, name)


@router.post("/{name}/sessions/end", response_model=SessionsEndedOut, summary="End every session of a user")
def end_sessions(name: str = NAME, caller: Caller = ADMINS_DEP, svc=Depends(services)) -> SessionsEndedOut:
    return SessionsEndedOut(ended=user_service.end_sessions(svc, caller.username, name))


@router.post("/{name}/sessions/{session_id}/end", status_code=204, summary="End one session of a user")
def end_session(name: str = NAME, session_id: str = SESSION_ID, caller: Caller = ADMINS_DEP,
                svc=Depends(services)) -> None:
    user_service.end_session(svc, caller.username, name, session_id)
