"""Chinese labels for the console. Codes stay the stable identifiers; these are for reading."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone, timedelta
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from patrol.dispositions import LABEL_ZH as DISPOSITION_ZH
from patrol.identifiers import KIND_ZH as IDENTIFIER_KIND_ZH
from patrol.taxonomy import LABEL_ZH

# Category labels are the taxonomy's, so a new category needs no change here.
CATEGORY = LABEL_ZH
SEVERITY = {"critical": "紧急", "high": "高", "medium": "中", "low": "低"}
# 已上报主管 (a status: waiting for a supervisor) must not read like 已举报处置 (a disposition).
STATUS = {"open": "待处理", "claimed": "已认领", "escalated": "已上报主管", "confirmed": "已确认", "dismissed": "已驳回"}
ROLE = {"officer": "值班员", "supervisor": "主管", "admin": "管理员", "auditor": "审计员"}
DECISION = {"confirm": "确认违规", "dismiss": "驳回", "escalate": "上报主管"}
# Dispositions' labels are the rules file's (patrol.dispositions); dismiss reasons' are here.
OUTCOME = {
    **DISPOSITION_ZH,
    "false_positive": "误报", "counter_speech": "反向言论/批评", "out_of_scope": "不属监测范围",
    "duplicate": "重复", "news_or_fiction": "新闻或虚构", "other": "其他",
}
HISTORY = {
    "alert.opened": "告警开立", "alert.claimed": "认领", "alert.released": "释放", "alert.decided": "作出结论",
    "alert.note_added": "添加备注",
    "alert.grouped": "并入告警组", "alert.member_attached": "组内新增成员", "evidence.exported": "导出证据包",
    "alert.assigned": "指派", "alert.deadline_passed": "超时通报主管",
    "identifier.revealed": "查看完整身份信息",
}
FACET = {"category": "类别", "source": "信源"}
TRAIL_KIND = {
    "fullwidth": "全角", "traditional": "繁体", "variant": "异体字", "separator": "分隔符", "zero_width": "零宽字符",
    "homophone": "谐音", "pinyin": "拼音", "lookalike": "形近符号", "emoji": "表情", "split_char": "拆字",
    "numeral": "数字写法", "case": "大小写", "truncated": "超长截断", "error": "无法分析",
}
# Review actions as the refusal message names them ("无法认领此告警").
REVIEW_ACTION = {"claim": "认领", "release": "释放", "assign": "指派", "decide": "处置", "confirm": "确认", "dismiss": "驳回",
                 "escalate": "上报", "note": "备注"}
# What of an audit payload a reviewer reads in the history; hashes and internals stay in /api/audit.
HISTORY_KEYS = ("action", "from", "to", "disposition", "reason", "note", "text", "previous_assignee", "assignee",
                "notified", "kind", "score")

# The console shows times in China Standard Time: that is where its readers are.
CST = timezone(timedelta(hours=8), "CST")


def label(table: dict[str, str]):
    return lambda code: table.get(code, code) if code else "—"


def fmt_time(value: datetime | str | None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def fmt_value(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return fmt_time(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def http_url(url: str | None) -> str | None:
    """Only http(s) links become clickable: a post's URL is upstream data, and a javascript: URL
    in an href would run in the officer's session."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


_MARK = re.compile(r"(</?mark>)")


def clean_highlight(fragment: str) -> Markup:
    """A search highlight as safe markup. The index promises HTML-escaped text with <mark> as the
    only tags; we do not take that on trust: every piece between the tags is unescaped and
    escaped again (a no-op for well-formed input, a neutraliser for anything else), and marks are
    kept only when they pair up."""
    pieces = _MARK.split(fragment or "")
    out: list[str] = []
    depth = 0
    for piece in pieces:
        if piece == "<mark>" and depth == 0:
            out.append(piece)
            depth = 1
        elif piece == "</mark>" and depth == 1:
            out.append(piece)
            depth = 0
        elif piece in ("<mark>", "</mark>"):
            continue
        else:
            out.append(str(escape(html.unescape(piece))))
    if depth:
        out.append("</mark>")
    return Markup("".join(out))


def history_summary(data: dict) -> str:
    parts = []
    for key in HISTORY_KEYS:
        value = data.get(key)
        if value in (None, "", [], {}):
            continue
        if key in ("disposition", "reason"):
            value = OUTCOME.get(value, value)
        elif key == "action":
            value = DECISION.get(value, value)
        elif key in ("from", "to"):
            value = STATUS.get(value, value)
        elif key == "kind":
            value = IDENTIFIER_KIND_ZH.get(value, value)
        elif isinstance(value, list):
            value = "、".join(map(str, value))
        parts.append(f"{HISTORY_FIELD.get(key, key)}：{value}")
    return "；".join(parts)


HISTORY_FIELD = {"action": "结论", "from": "原状态", "to": "新状态", "disposition": "处置", "reason": "理由",
                 "note": "备注", "text": "内容", "previous_assignee": "原处理人", "assignee": "处理人",
                 "notified": "已通知", "kind": "类型", "score": "评分"}


def template_globals() -> dict:
    return {
        "category_label": label(CATEGORY), "severity_label": label(SEVERITY), "status_label": label(STATUS),
        "role_label": label(ROLE), "decision_label": label(DECISION), "outcome_label": label(OUTCOME),
        "history_label": label(HISTORY), "facet_label": label(FACET), "fmt_time": fmt_time,
        "fmt_value": fmt_value, "http_url": http_url, "clean_highlight": clean_highlight,
        "trail_kind_label": label(TRAIL_KIND), "history_summary": history_summary,
    }
