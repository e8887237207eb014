"""/console/admin/rules/{rule}: an administrator switches an alert rule on or off or moves its
threshold (api/services/rules.py; the page itself is console_pages.admin_rules). Audited; a bad
threshold, an unknown rule, a stale form or a role that may not change rules gets a Chinese
message on the rules page and changes nothing."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from api.console_web import check_csrf, console_caller, redirect_with
from api.deps import Caller, services
from api.services import rules as rule_service
from patrol.reviews import PermissionDenied
from patrol.rule_overrides import RuleChangeError
from patrol.users import ADMIN

router = APIRouter(prefix="/console/admin/rules", include_in_schema=False)
PAGE = "/console/admin/rules"


@router.post("/{rule}")
def change(request: Request, rule: str, csrf_token: str = Form("", max_length=200),
           enabled: str = Form("", max_length=5), min_score: str = Form("", max_length=40),
           caller: Caller = Depends(console_caller), svc=Depends(services)) -> Response:
    refused = check_csrf(request, caller, csrf_token)
    if refused:
        return refused
    if caller.role != ADMIN:
        return redirect_with(request, PAGE, "只有管理员可以修改告警规则，未作任何更改。", "error")
    try:
        changed = rule_service.change_rule(svc, caller.username, rule, enabled == "on", min_score)
    except RuleChangeError as exc:
        return redirect_with(request, PAGE, f"规则未修改：{exc.zh}", "error")
    except PermissionDenied:
        return redirect_with(request, PAGE, "规则未修改：需要已启用的管理员账号。", "error")
    state = "启用" if changed.enabled else "停用"
    return redirect_with(request, PAGE, f"规则 {changed.name} 已{state}，阈值 {changed.min_score:g}（已记入审计）。")
