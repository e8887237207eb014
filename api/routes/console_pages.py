"""The console's other pages: dashboard, shift handover (交接班), audit view, administration
(sources, alert rules, lexicons with the backtest), and an alert's evidence package.

Server-rendered like the rest of the console (api/console_web.py); charts are drawn by the
vendored ECharts from a JSON block of the page, never by inline script (the CSP forbids it).
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import AUDITORS, LEXICON_KEEPERS
from api.console_web import console_caller, error_page, render, templates
from api.deps import Caller, services
from api.pdf import PdfUnavailable, html_to_pdf
from api.services import evidence as evidence_service
from api.services import reports
from api.services import rules as rule_service
from api.services.audit import events_page, verify
from patrol.lexicon_backtest import BacktestError, backtest
from patrol.store import InvalidFilter, NotFound
from patrol.threads import load_thread_rules
from patrol.users import ADMIN

log = logging.getLogger("patrol.api")
router = APIRouter(prefix="/console", include_in_schema=False)

ADMINS = LEXICON_KEEPERS  # supervisors and admins see the administration pages


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _summaries(request: Request) -> dict:
    state = request.app.state
    if not hasattr(state, "summaries"):
        state.summaries = {}
    return state.summaries


def _refused(request: Request, caller: Caller, allowed: frozenset[str], what: str) -> Response | None:
    if caller.role in allowed:
        return None
    return error_page(request, caller, 403, f"当前角色无权查看{what}。")


# --- dashboard ------------------------------------------------------------------------------

@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, days: int = Query(14, ge=1, le=90), caller: Caller = Depends(console_caller),
              svc=Depends(services)):
    data = reports.cached(_summaries(request), ("dashboard", days), _now(),
                          lambda: reports.dashboard(svc, days, _now()))
    return render(request, "dashboard.html", caller, nav="dashboard", d=data, days=days,
                  chart_json=json.dumps(data["chart"], ensure_ascii=False))


# --- shift handover -------------------------------------------------------------------------

@router.get("/handover", response_class=HTMLResponse)
def handover(request: Request, start: str = Query("", max_length=40), end: str = Query("", max_length=40),
             format: str = Query("html", pattern="^(html|pdf)$"), caller: Caller = Depends(console_caller),
             svc=Depends(services)):
    now = _now()
    try:
        lo, hi = reports.shift_window(start, end, now)
    except ValueError as exc:
        return render(request, "handover.html", caller, status_code=400, nav="handover", h=None, start=start, end=end,
                      flash=f"交接班时间无效：{exc}", flash_kind="error")
    # The default window moves with the clock: cached by what was asked, not by its times.
    data = reports.cached(_summaries(request), ("handover", start, end), now, lambda: reports.handover(svc, lo, hi, now))
    context = {"h": data, "lo": lo, "hi": hi, "start": start, "end": end, "generated": now, "by": caller.username}
    if format == "pdf":
        html = templates.get_template("handover_print.html").render(**context, **templates.env.globals)
        try:
            pdf = html_to_pdf(html)
        except PdfUnavailable as exc:
            return error_page(request, caller, 503, f"无法生成 PDF：{exc}")
        name = f"handover-{hi.strftime('%Y%m%d-%H%M')}.pdf"
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
    return render(request, "handover.html", caller, nav="handover", **context)


# --- audit view -----------------------------------------------------------------------------

@router.get("/audit", response_class=HTMLResponse)
def audit_view(request: Request, actor: str = Query("", max_length=64), action: str = Query("", max_length=40),
               subject: str = Query("", max_length=200), after: int = Query(0, ge=0),
               check: str = Query("", max_length=1), caller: Caller = Depends(console_caller), svc=Depends(services)):
    refused = _refused(request, caller, AUDITORS, "审计记录")
    if refused:
        return refused
    state = request.app.state
    if check or getattr(state, "audit_verified", None) is None:
        # Verifying walks the whole chain: done when asked (and once per process), then shown
        # with the time it was done.
        state.audit_verified = (verify(svc), _now())
    page = events_page(svc, after_seq=after, limit=100, actor=actor, action=action, subject=subject)
    filters = {"actor": actor, "action": action, "subject": subject}
    return render(request, "audit.html", caller, nav="audit", page=page, filters=filters,
                  verification=state.audit_verified[0], verified_at=state.audit_verified[1])


# --- administration -------------------------------------------------------------------------

@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, caller: Caller = Depends(console_caller)):
    refused = _refused(request, caller, ADMINS, "管理页面")
    return refused or render(request, "admin.html", caller, nav="admin")


@router.get("/admin/sources", response_class=HTMLResponse)
def admin_sources(request: Request, caller: Caller = Depends(console_caller), svc=Depends(services)):
    refused = _refused(request, caller, ADMINS, "管理页面")
    if refused:
        return refused
    path = svc.settings.sources
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        text = None
    health = svc.store.source_gaps(_now())
    return render(request, "admin_sources.html", caller, nav="admin", path=str(path), text=text, health=health)


@router.get("/admin/rules", response_class=HTMLResponse)
def admin_rules(request: Request, caller: Caller = Depends(console_caller), svc=Depends(services)):
    refused = _refused(request, caller, ADMINS, "管理页面")
    if refused:
        return refused
    return render(request, "admin_rules.html", caller, nav="admin", rules=svc.rules, thread_rules=load_thread_rules(),
                  overrides=rule_service.overrides(svc), can_change=caller.role == ADMIN)


@router.get("/admin/lexicons", response_class=HTMLResponse)
def admin_lexicons(request: Request, terms: str = Query("", max_length=500), caller: Caller = Depends(console_caller),
                   svc=Depends(services)):
    refused = _refused(request, caller, ADMINS, "管理页面")
    if refused:
        return refused
    rows, error = None, None
    wanted = [t for t in terms.replace("，", ",").split(",") if t.strip()] if terms else []
    if terms and not wanted:
        error = "请输入至少一个词（多个词用逗号分隔）。"
    elif wanted:
        try:
            rows = backtest([t.strip() for t in wanted], svc.store, svc.analyzer, sample=3)
        except BacktestError as exc:
            error = f"无法回测：{exc}"
    return render(request, "admin_lexicons.html", caller, status_code=400 if error else 200, nav="admin",
                  files=reports.lexicon_files(svc), version=svc.analyzer.model_version, terms=terms, rows=rows,
                  error=error)


# --- evidence package -----------------------------------------------------------------------

@router.get("/alerts/{alert_id}/evidence.zip")
def evidence_zip(request: Request, alert_id: str, pdf: int = Query(1, ge=0, le=1),
                 caller: Caller = Depends(console_caller), svc=Depends(services)):
    def report(ev) -> str:
        return templates.get_template("evidence_report.html").render(ev=ev, m=ev.manifest, generated=_now(),
                                                                     by=caller.username, **templates.env.globals)

    try:
        body, problems = evidence_service.export_package(svc, caller.username, alert_id, report,
                                                         html_to_pdf if pdf else None)
    except (NotFound, InvalidFilter):
        return error_page(request, caller, 404, f"没有编号为 {alert_id} 的告警。")
    for p in problems:
        log.warning("evidence package %s without PDF: %s", alert_id, p)
    headers = {"Content-Disposition": f'attachment; filename="evidence-{alert_id}.zip"', "Cache-Control": "no-store"}
    if problems:
        headers["X-Patrol-Problems"] = "PDF unavailable"
    return Response(body, media_type="application/zip", headers=headers)
