"""Evidence for the console: an alert's thread context, its group, both hashes re-checked, and the
evidence package (zip with a printable report and its PDF). The package is audited as exported."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from patrol import evidence as core_evidence


def detail_blocks(svc, detail) -> dict:
    """What the alert page shows below the post: thread, group members or lead, hashes, from the
    alert's AlertDetail as the page read it (one read of the alert per page, not three)."""
    store = svc.store
    alert = detail.alert
    ev = core_evidence.collect(store, alert.id, detail)
    lead = store.get_alert(alert.group_id) if alert.group_id else None
    return {
        "thread": store.thread_context(alert.post_id) if alert.post_id else None,
        # Only a lead has members (group_size counts them): a lone alert needs no query for none.
        "group_members": store.group_members(alert.id) if alert.group_size > 1 else [],
        "group_lead": lead.alert if lead else None,
        "hashes": ev,
    }


def export_package(svc, actor: str, alert_id: str, render_report: Callable[[core_evidence.Evidence], str],
                   to_pdf: Callable[[str], bytes] | None) -> tuple[bytes, list[str]]:
    """(zip bytes, problems): the package with report.html, and report.pdf when `to_pdf` works.
    A PDF that cannot be made leaves a note in `problems` and the rest of the package intact."""
    ev = core_evidence.collect(svc.store, alert_id)
    html = render_report(ev)
    extra = {"report.html": html.encode("utf-8")}
    problems: list[str] = []
    if to_pdf is not None:
        try:
            extra["report.pdf"] = to_pdf(html)
        except RuntimeError as exc:
            problems.append(str(exc))
    body = core_evidence.package(ev, extra)
    svc.store.record_event(actor, "evidence.exported", f"alert:{alert_id}", {
        "post_sha256": ev.post_sha256.recorded, "page_sha256": ev.page_sha256.recorded,
        "page_state": ev.page_sha256.state, "pdf": "report.pdf" in extra,
    }, datetime.now(timezone.utc))
    return body, problems
