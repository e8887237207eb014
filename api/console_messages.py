"""The core's refusals worded in Chinese for the console: what happened, and what to do.

The core raises English messages for logs and the JSON API, with codes (DecisionError.code,
TransitionError.reason, PermissionDenied's action/state/role) that this module words; anything
without a code falls back to a generic sentence, never to the English text.
"""
from __future__ import annotations

from api.console_labels import REVIEW_ACTION, ROLE, STATUS
from patrol import dispositions
from patrol.reviews import MAX_NOTE_CHARS, DecisionError, PermissionDenied, TransitionError
from patrol.store import InvalidFilter, NotFound, StoreUnavailable

DECISION = {
    "note_too_long": f"备注过长：最多 {MAX_NOTE_CHARS} 个字符。",
    "note_bad_text": "备注含有无法保存的字符（如控制字符），请删除后重试。",
    "note_empty": "备注不能为空。",
    "disposition_missing": "确认违规时须选择处置方式。",
    "disposition_not_for_category": "所选处置方式不适用于此类别的告警，请从列表中重新选择。",
    "reason_missing": "驳回时须选择驳回理由。",
    "note_missing": "驳回理由为“其他”时须在备注中说明原因。",
    "escalate_note_missing": "上报主管时须填写备注，说明需要主管关注什么。",
    "wrong_field": "所填字段与所选结论不符，请检查后重试。",
    "action_unknown": "请选择结论：确认违规、驳回或上报主管。",
    "assignee_missing": "请选择要指派的处理人。",
}


def verb(action: str | None) -> str:
    return REVIEW_ACTION.get(action or "", "处理")


def explain(exc: Exception) -> str:
    """One Chinese sentence for a refusal the console shows."""
    if isinstance(exc, TransitionError):
        state = STATUS.get(exc.state, exc.state)
        if exc.reason == "already_decided":
            return f"此告警已有结论（{state}），无法{verb(exc.action)}。"
        if exc.reason == "claimed_by":
            return f"此告警已由 {exc.holder} 认领，无法{verb(exc.action)}。"
        if exc.reason == "not_claimed":
            return f"此告警尚未认领，请先认领再{verb(exc.action)}。"
        return f"告警当前状态为“{state}”，无法{verb(exc.action)}。"
    if isinstance(exc, PermissionDenied):
        if exc.needed:
            needed = "或".join(ROLE.get(r, r) for r in exc.needed)
            what = f"{STATUS.get(exc.state, exc.state)}的告警" if exc.state else "告警"
            return f"当前角色（{ROLE.get(exc.role, exc.role)}）不能{verb(exc.action)}{what}，需要{needed}。"
        return "当前账号无权执行此操作（账号已停用或角色不符）。"
    if isinstance(exc, DecisionError):
        return DECISION.get(exc.code, "结论不完整，请检查所填内容。")
    if isinstance(exc, NotFound):
        return "没有找到这条告警（编号有误或已不存在）。"
    if isinstance(exc, InvalidFilter):
        return "提交的内容无效，请检查后重试。"
    if isinstance(exc, StoreUnavailable):
        return "数据库暂时不可用，操作未保存，请稍后重试。"
    return "操作未完成，请刷新页面后重试。"


def disposition_label(code: str) -> str:
    return dispositions.LABEL_ZH.get(code, code)
