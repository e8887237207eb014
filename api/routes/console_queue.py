"""The alert queue page: filters on any label with pick-lists, sort, counts per status and
severity, saved views, and (supervisors) bulk select, claim/take over, release, assign, dismiss.

The rows are a fragment of their own (`/console/queue/rows`) so the live-update stream can
replace them without reloading the page (and without touching what the officer is typing).
Every filter value is checked here first, so an unknown one gets a Chinese message naming it.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import REVIEWERS, SUPERVISORS
from api.console_labels import CATEGORY, SEVERITY, STATUS
from api.console_messages import explain
from api.console_web import check_csrf, console_caller, redirect_with, render
from api.deps import Caller, services
from api.schemas import AlertPageOut
from api.services import alerts as alert_service
from patrol.alerts import ACTIVE_STATUSES, STATUSES
from patrol.reviews import DISMISS_REASONS, Decision, ReviewError
from patrol.store import InvalidFilter, StoreError
from patrol.taxonomy import ALERT_CATEGORIES, SEVERITIES

router = APIRouter(prefix="/console", include_in_schema=False)

SORT_LABELS = {"severity_then_due": "严重程度、截止时间", "due": "截止时间（最早）", "newest": "最新开立",
               "oldest": "最早开立"}
FILTER_NAMES = ("status", "category", "severity", "source", "assignee", "q", "sort")
BULK_ACTIONS = {"claim": "认领/接管", "release": "释放", "assign": "指派", "dismiss": "驳回"}


def queue_filters(
    status: str = Query("", max_length=32), category: str = Query("", max_length=64),
    severity: str = Query("", max_length=16), source: str = Query("", max_length=200),
    assignee: str = Query("", max_length=64), q: str = Query("", max_length=200),
    sort: str = Query("", max_length=32),
) -> dict:
    """The queue's filters from the query string (FILTER_NAMES), one dependency for the page and
    its live-swapped rows, so the two cannot drift apart."""
    return {"status": status, "category": category, "severity": severity, "source": source,
            "assignee": assignee, "q": q, "sort": sort}


SOURCES_TTL_SECONDS = 60.0


def _sources(request: Request, fresh: bool = False) -> list[str]:
    """The source pick-list, read at most once a minute per process (a distinct over every alert
    costs tens of milliseconds at 100,000 alerts); `fresh` reads it now (a source not yet listed)."""
    svc, now = request.app.state.services, time.monotonic()
    hit = getattr(request.app.state, "queue_sources", None)
    if fresh or hit is None or now - hit[0] > SOURCES_TTL_SECONDS:
        hit = (now, sorted(set(svc.store.alert_sources()) | {h.source for h in svc.store.source_health()}))
        request.app.state.queue_sources = hit
    return hit[1]


def _choices(request: Request, svc, caller: Caller) -> dict:
    sources = _sources(request)
    reviewers = [u for u in svc.store.list_users() if u.can_review]
    return {"statuses": STATUSES, "categories": ALERT_CATEGORIES, "severities": SEVERITIES, "sources": sources,
            "reviewers": reviewers, "sorts": SORT_LABELS, "reasons": DISMISS_REASONS, "bulk_actions": BULK_ACTIONS,
            "can_review": caller.role in REVIEWERS, "can_bulk": caller.role in SUPERVISORS, "nav": "queue"}


def filter_problem(f: dict, choices: dict) -> str | None:
    """A Chinese sentence naming the first unknown filter value, or None."""
    if f["status"] not in ("", "all", *STATUSES):
        return f"状态“{f['status']}”不存在，可选：{'、'.join(STATUS.values())}。"
    if f["category"] and f["category"] not in ALERT_CATEGORIES:
        return f"类别“{f['category']}”不存在，可选：{'、'.join(CATEGORY.get(c, c) for c in ALERT_CATEGORIES)}。"
    if f["severity"] and f["severity"] not in SEVERITIES:
        return f"严重程度“{f['severity']}”不存在，可选：{'、'.join(SEVERITY.values())}。"
    if f["sort"] and f["sort"] not in SORT_LABELS:
        return f"排序方式“{f['sort']}”不存在，可选：{'、'.join(SORT_LABELS.values())}。"
    if f["source"] and f["source"] not in choices["sources"]:
        return f"信源“{f['source']}”不存在（没有该信源的告警或运行记录）。"
    if f["assignee"] and f["assignee"] not in {u.name for u in choices["reviewers"]}:
        return f"处理人“{f['assignee']}”不是值班员或主管。"
    return None


def _page(request: Request, caller: Caller, svc, f: dict, cursor: str, template: str) -> Response:
    choices = _choices(request, svc, caller)
    if f["source"] and f["source"] not in choices["sources"]:
        choices["sources"] = _sources(request, fresh=True)
    views = svc.store.saved_views(caller.username)
    query = urlencode({k: v for k, v in f.items() if v})
    context = {"filters": f, "views": views, "query": query, **choices}
    problem = filter_problem(f, choices)
    if problem:
        return render(request, template, caller, status_code=400, page=AlertPageOut(items=[], next_cursor=None),
                      counts=None, flash=f"筛选条件无效：{problem}", flash_kind="error", **context)
    statuses = None if f["status"] == "all" else (f["status"] or ",".join(ACTIVE_STATUSES))
    flt = alert_service.alert_filter(status=statuses, category=f["category"], severity=f["severity"],
                                     source=f["source"], assignee=f["assignee"], q=f["q"], opened_from=None,
                                     opened_to=None, sort=f["sort"] or "severity_then_due", limit=50, cursor=cursor)
    now = datetime.now(timezone.utc)
    try:
        page = alert_service.list_page(svc, flt, now)
        counts = svc.store.queue_counts(flt, now)
    except InvalidFilter:
        return render(request, template, caller, status_code=400, page=AlertPageOut(items=[], next_cursor=None),
                      counts=None, flash="筛选条件无效：翻页标记已失效或不是本系统生成的，请从第一页重新浏览。",
                      flash_kind="error", **context)
    next_query = urlencode({k: v for k, v in f.items() if v} | {"cursor": page.next_cursor or ""})
    return render(request, template, caller, page=page, counts=counts, next_query=next_query, now=now, **context)


@router.get("/", response_class=HTMLResponse)
def queue(request: Request, filters: dict = Depends(queue_filters), cursor: str = Query("", max_length=500),
          caller: Caller = Depends(console_caller), svc=Depends(services)):
    return _page(request, caller, svc, filters, cursor, "queue.html")


@router.get("/queue/rows", response_class=HTMLResponse)
def queue_rows(request: Request, filters: dict = Depends(queue_filters), cursor: str = Query("", max_length=500),
               caller: Caller = Depends(console_caller), svc=Depends(services)):
    """The queue's table alone, for console.js to swap in when the live stream says it changed."""
    return _page(request, caller, svc, filters, cursor, "queue_rows.html")


@router.post("/views")
def save_view(request: Request, name: str = Form("", max_length=100), query: str = Form("", max_length=2000),
              csrf_token: str = Form("", max_length=200), delete: str = Form("", max_length=5),
              caller: Caller = Depends(console_caller), svc=Depends(services)):
    refused = check_csrf(request, caller, csrf_token)
    if refused:
        return refused
    back = "/console/?" + query if query else "/console/"
    try:
        if delete:
            svc.store.delete_view(caller.username, name)
            return redirect_with(request, back, f"已删除视图“{name}”。")
        svc.store.save_view(caller.username, name, query, datetime.now(timezone.utc))
    except InvalidFilter:
        return redirect_with(request, back, "视图未保存：名称须为 1–40 个字符，每人最多 30 个视图。", "error")
    return redirect_with(request, back, f"已保存视图“{name.strip()}”。")


@router.post("/bulk")
async def bulk(request: Request, caller: Caller = Depends(console_caller), svc=Depends(services)):
    """Supervisors: one action on the checked alerts, each alert on its own (one refusal does not
    undo the others); the message counts what was done and words each refusal in Chinese."""
    form = await request.form()
    query = str(form.get("query", ""))[:2000]
    back = "/console/?" + query if query else "/console/"
    refused = check_csrf(request, caller, str(form.get("csrf_token", "")))
    if refused:
        return refused
    if caller.role not in SUPERVISORS:
        return redirect_with(request, back, "批量操作仅限主管。", "error")
    ids = [str(i)[:64] for i in form.getlist("ids")][:200]
    action = str(form.get("bulk_action", ""))
    if not ids:
        return redirect_with(request, back, "未选择任何告警：请先勾选要处理的告警。", "error")
    if action not in BULK_ACTIONS:
        return redirect_with(request, back, "请选择批量操作。", "error")
    try:
        if action == "assign":
            outcomes = alert_service.assign_each(svc, caller.username, ids, str(form.get("assignee", ""))[:64])
        else:
            step = action if action != "dismiss" else Decision(
                "dismiss", reason=str(form.get("reason", "")) or None, note=str(form.get("note", ""))[:4000])
            outcomes = alert_service.bulk_outcomes(svc, caller.username, ids, step)
    except (ReviewError, ValueError, StoreError) as exc:
        return redirect_with(request, back, f"批量{BULK_ACTIONS[action]}未执行：{explain(exc)}", "error")
    done = sum(o.ok for o in outcomes)
    failed = [o for o in outcomes if not o.ok]
    message = f"批量{BULK_ACTIONS[action]}：{done} 条成功"
    if failed:
        message += f"，{len(failed)} 条未完成（" + "；".join(
            f"{o.alert_id[:8]}…：{explain(o.problem) if o.problem else '未完成'}" for o in failed[:5]) + "）"
    return redirect_with(request, back, message + "。", "error" if failed else "info")
