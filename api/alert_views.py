"""Turns the store's alert records (patrol.alerts.Alert, patrol.store.AlertDetail and Note,
patrol.audit.AuditEvent) into the API's JSON shapes (api.schemas)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from api.schemas import (AlertDetailOut, AlertSummary, EvidenceOut, FrozenPost, HistoryEntry, NoteOut,
                         TrailStepOut)
from patrol.alerts import Alert
from patrol.audit import AuditEvent
from patrol.identifiers import mask_all
from patrol.posts import analysed_text
from patrol.store import AlertDetail, Note

EXCERPT_CHARS = 120


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(alert: Alert, now: datetime) -> AlertSummary:
    return AlertSummary(
        id=alert.id, post_id=alert.post_id, source=alert.source, category=alert.category,
        labels=list(alert.labels), severity=alert.severity, score=alert.score, status=alert.status,
        opened_at=alert.opened_at, due_at=alert.due_at, overdue=alert.overdue(now),
        assignee=alert.assignee, title=alert.title, excerpt=excerpt(alert.text), url=alert.url,
        group_id=alert.group_id, group_size=alert.group_size,
    )


def detail(d: AlertDetail, now: datetime) -> AlertDetailOut:
    """The alert with its frozen post, its analysis, its history and its notes."""
    alert = d.alert
    analysis: dict[str, Any] = alert.analysis or {}
    base = summary(alert, now).model_dump()
    return AlertDetailOut(
        **base,
        rule=alert.rule,
        post=FrozenPost(
            post_id=alert.post_id, version=alert.post_version, source=alert.source, url=alert.url,
            title=alert.title, text=alert.text, author=alert.author, published_at=alert.published_at,
            fetched_at=alert.fetched_at, content_sha256=alert.content_sha256,
            analysed_text=analysed_text(alert.title, alert.text),
        ),
        scores={k: float(v) for k, v in (analysis.get("scores") or {}).items()},
        evidence=[EvidenceOut(**_pick(e, EvidenceOut)) for e in analysis.get("evidence") or ()],
        trail=[TrailStepOut(**_pick(t, TrailStepOut)) for t in analysis.get("trail") or ()],
        model_version=str(analysis.get("model_version", "")),
        features={k: [(str(n), float(w)) for n, w in v] for k, v in (analysis.get("features") or {}).items()},
        claimed_at=alert.claimed_at, escalated=alert.escalated, decision=alert.decision,
        outcome=alert.outcome, decision_note=alert.decision_note or "", decided_by=alert.decided_by,
        decided_at=alert.decided_at,
        history=[history_entry(e) for e in d.history],
        notes=[note(n) for n in d.notes],
    )


def masked_summary(out: AlertSummary) -> AlertSummary:
    """The summary with its personal identifiers masked, as the console's queue shows it."""
    return out.model_copy(update={"title": mask_all(out.title), "excerpt": mask_all(out.excerpt)})


def masked_detail(out: AlertDetailOut) -> AlertDetailOut:
    """The detail with every copy of the post's text masked (title, excerpt, frozen post, analysed
    text, evidence snippets), as the console shows it before a reveal. Masking keeps each string's
    length, so the evidence and trail offsets still point at the same characters."""
    post = out.post.model_copy(update={"title": mask_all(out.post.title), "text": mask_all(out.post.text),
                                       "analysed_text": mask_all(out.post.analysed_text)})
    return out.model_copy(update={
        "title": mask_all(out.title), "excerpt": mask_all(out.excerpt), "post": post,
        "evidence": [e.model_copy(update={"text": mask_all(e.text)}) for e in out.evidence],
        "masked": True})


def history_entry(event: AuditEvent) -> HistoryEntry:
    """An alert's history is its audit events (subject `alert:<id>`)."""
    return HistoryEntry(at=event.at_datetime, actor=event.actor, type=event.action, data=event.payload or {})


def note(n: Note) -> NoteOut:
    return NoteOut(author=n.author, text=n.text, at=n.created_at)


def _pick(d: dict, model) -> dict:
    return {k: v for k, v in d.items() if k in model.model_fields}
