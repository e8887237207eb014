"""/console/admin/users: the console's user administration, for admins. The same service as
/api/users (api/services/users.py), so the store checks and audits each step alike.

Its page helpers (the login redirect, security headers, flash messages) are the console's own,
from api/console_web.py."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import ADMINS
from api.console_web import console_caller, redirect_with, render
from api.deps import Caller, services
from api.errors import DOMAIN_ERRORS
from api.services import users as user_service
from patrol.reviews import PermissionDenied
from patrol.store import NotFound, UserExists
from patrol.users import ROLES, UserError

router = APIRouter(prefix="/console/admin/users", include_in_schema=False)
PAGE = "/console/admin/users"


def _page(request: Request, caller: Caller, status_code: int = 200, **context) -> Response:
    return render(request, "admin_users.html", caller, status_code=status_code, nav="admin-users", **context)


def _back(request: Request, message: str, kind: str = "info") -> Response:
    return redirect_with(request, PAGE, message, kind)


@router.get("", response_class=HTMLResponse)
def users_page(request: Request, caller: Caller = Depends(console_caller), svc=Depends(services)):
    if caller.role not in ADMINS:
        return _page(request, caller, 403, forbidden=True, accounts=[], sessions={}, roles=ROLES)
    accounts = user_service.accounts(svc)
    sessions = {a.name: user_service.sessions_of(svc, caller.username, a.name) for a in accounts if a.live_sessions}
    return _page(request, caller, accounts=accounts, sessions=sessions, roles=ROLES,
                 forbidden=False)


def _act(request: Request, caller: Caller, csrf_token: str, action, done: str) -> Response:
    if not request.app.state.signer.csrf_matches(caller.nonce, csrf_token):
        return _back(request, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。", "error")
    if caller.role not in ADMINS:
        return _back(request, "只有管理员可以管理用户。", "error")
    try:
        action()
    except tuple(DOMAIN_ERRORS) as exc:
        return _back(request, f"操作未完成：{_in_chinese(exc)}", "error")
    return _back(request, done)


def _in_chinese(exc: Exception) -> str:
    """The console speaks Chinese: the store's refusals of user management, said in it."""
    if isinstance(exc, UserError):
        return exc.zh
    if isinstance(exc, UserExists):
        return "该用户名已存在。"
    if isinstance(exc, NotFound):
        return "没有该用户或会话（可能已被结束）。"
    if isinstance(exc, PermissionDenied):
        return "无权管理用户：需要已启用的管理员账号。"
    return str(exc)


@router.post("/add")
def add(request: Request, csrf_token: str = Form("", max_length=200), name: str = Form("", max_length=64),
        role: str = Form("", max_length=20), password: str = Form("", max_length=72),
        caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _act(request, caller, csrf_token, lambda: user_service.add_user(svc, caller.username, name, role, password),
                f"已添加用户 {name}。")


@router.post("/{name}/disable")
def disable(request: Request, name: str, csrf_token: str = Form("", max_length=200),
            caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _act(request, caller, csrf_token, lambda: user_service.set_active(svc, caller.username, name, False),
                f"已停用 {name}，其会话已全部结束。")


@router.post("/{name}/enable")
def enable(request: Request, name: str, csrf_token: str = Form("", max_length=200),
           caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _act(request, caller, csrf_token, lambda: user_service.set_active(svc, caller.username, name, True),
                f"已启用 {name}。")


@router.post("/{name}/role")
def set_role(request: Request, name: str, csrf_token: str = Form("", max_length=200),
             role: str = Form("", max_length=20), caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _act(request, caller, csrf_token, lambda: user_service.set_role(svc, caller.username, name, role),
                f"已修改 {name} 的角色。")


@router.post("/{name}/password")
def reset_password(request: Request, name: str, csrf_token: str = Form("", max_length=200),
                   password: str = Form("", max_length=72), caller: Caller = Depends(console_caller),
                   svc=Depends(services)):
    return _act(request, caller, csrf_token,
                lambda: user_service.reset_password(svc, caller.username, name, password),
                f"已重置 {name} 的密码，其会话已全部结束。")


@router.post("/{name}/unlock")
def unlock(request: Request, name: str, csrf_token: str = Form("", max_length=200),
           caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _act(request, caller, csrf_token, lambda: user_service.unlock(svc, caller.username, name),
                f"已解除 {name} 的登录锁定。")


@router.post("/{name}/sessions/end")
def end_sessions(request: Request, name: str, csrf_token: str = Form("", max_length=200),
                 caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _act(request, caller, csrf_token, lambda: user_service.end_sessions(svc, caller.username, name),
                f"已结束 {name} 的全部会话。")


@router.post("/{name}/sessions/{session_id}/end")
def end_session(request: Request, name: str, session_id: str, csrf_token: str = Form("", max_length=200),
                caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _act(request, caller, csrf_token,
                lambda: user_service.end_session(svc, caller.username, name, session_id), "已结束该会话。")
