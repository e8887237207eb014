"""Rows to values and back, and the row locks the write paths take."""
from __future__ import annotations

import json
from typing import Any, Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from patrol.alerts import STATUSES, Alert
from patrol.audit import AuditEvent
from patrol.posts import analysed_text, text_problem
from patrol.store.engine import chunks
from patrol.store.records import Note, NotFound, PostRecord
from patrol.store.schema import UTCDateTime, alerts, posts
from patrol.taxonomy import SEVERITY_RANK


def locked_posts(conn: Connection, post_ids: Sequence[str]) -> dict:
    """id -> (id, version, version_hash) of the stored posts among `post_ids`, locked in id order."""
    found = {}
    for chunk in chunks(sorted(post_ids), 500):
        rows = conn.execute(select(posts.c.id, posts.c.version, posts.c.version_hash).where(posts.c.id.in_(chunk))
                            .order_by(posts.c.id).with_for_update())
        found.update((r.id, r) for r in rows)
    return found


MARK_VERSION_INDEXED = (update(posts).where(posts.c.id == bindparam("b_id"), posts.c.version == bindparam("b_version"))
                         .values(indexed=True))

TOUCH_POST = (update(posts).where(posts.c.id == bindparam("b_id"))
               .values(last_fetched=bindparam("b_fetched", type_=UTCDateTime), deleted_upstream=False))


def locked_alert(conn: Connection, alert_id: str) -> Alert:
    # No alert id holds a NUL or a lone surrogate; PostgreSQL would refuse to even look one up.
    row = None if text_problem(alert_id) else conn.execute(
        select(alerts).where(alerts.c.id == alert_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"no alert {alert_id!r}")
    return alert_from_row(row)


def post_values(p: PostRecord) -> dict[str, Any]:
    return {
        "id": p.id, "source": p.source, "external_id": p.external_id, "url": p.url, "title": p.title,
        "text": p.text, "author": p.author, "published_at": p.published_at, "last_fetched": p.fetched_at,
        "content_sha256": p.content_sha256, "version_hash": p.version_hash,
        "deleted_upstream": p.deleted_upstream, "analysis": compact_analysis(p), "primary": p.primary,
        "labels": list(p.labels),
    }


def compact_analysis(p: PostRecord) -> dict | None:
    """The analysis as the posts table keeps it: without `normalised` when the normaliser changed
    nothing (most posts), since it would repeat the whole text; full_analysis puts it back. A
    third of the stored row at 1M posts (bench/ingest_bench.py); callers never see the difference."""
    a = p.analysis
    if a and a.get("normalised") == analysed_text(p.title, p.text):
        a = {k: v for k, v in a.items() if k != "normalised"}
    return a


def full_analysis(stored: dict | None, title: str, text: str) -> dict | None:
    if stored and "normalised" not in stored:
        return stored | {"normalised": analysed_text(title, text)}
    return stored


def version_values(p: PostRecord, version: int) -> dict[str, Any]:
    return {"post_id": p.id, "version": version, "title": p.title, "text": p.text,
            "content_sha256": p.content_sha256, "version_hash": p.version_hash, "fetched_at": p.fetched_at}


def post_from_row(r) -> PostRecord:
    return PostRecord(
        id=r.id, source=r.source, external_id=r.external_id, url=r.url, title=r.title, text=r.text,
        author=r.author, published_at=r.published_at, fetched_at=r.last_fetched,
        content_sha256=r.content_sha256, deleted_upstream=r.deleted_upstream,
        analysis=full_analysis(r.analysis, r.title, r.text),
        primary=r.primary, labels=tuple(r.labels), version=r.version, first_seen=r.first_seen,
        indexed=r.indexed,
    )


REVIEW_FIELDS = ("status", "assignee", "claimed_at", "escalated", "decision", "outcome", "decision_note",
                  "decided_by", "decided_at")


def alert_values(a: Alert) -> dict[str, Any]:
    if a.status not in STATUSES:
        raise ValueError(f"alert {a.id}: unknown status {a.status!r}")
    return {
        "id": a.id, "post_id": a.post_id, "source": a.source, "category": a.category,
        "labels": list(a.labels), "severity": a.severity, "severity_rank": SEVERITY_RANK[a.severity],
        "score": a.score, "opened_at": a.opened_at, "due_at": a.due_at, "rule": a.rule,
        "title": a.title, "text": a.text, "url": a.url, "author": a.author, "published_at": a.published_at,
        "fetched_at": a.fetched_at, "content_sha256": a.content_sha256, "analysis": a.analysis or {},
        "post_version": a.post_version,
    } | {k: getattr(a, k) for k in REVIEW_FIELDS}


def save_review(conn: Connection, a: Alert) -> None:
    conn.execute(update(alerts).where(alerts.c.id == a.id).values({k: getattr(a, k) for k in REVIEW_FIELDS}))


def alert_from_row(r) -> Alert:
    return Alert(
        id=r.id, post_id=r.post_id, source=r.source, category=r.category, labels=tuple(r.labels),
        severity=r.severity, score=r.score, status=r.status, opened_at=r.opened_at, due_at=r.due_at,
        rule=r.rule, title=r.title, text=r.text, url=r.url, author=r.author, published_at=r.published_at,
        fetched_at=r.fetched_at, content_sha256=r.content_sha256, analysis=dict(r.analysis or {}),
        post_version=r.post_version, assignee=r.assignee, claimed_at=r.claimed_at, escalated=r.escalated,
        decision=r.decision, outcome=r.outcome, decision_note=r.decision_note, decided_by=r.decided_by,
        decided_at=r.decided_at,
    )


def note_from_row(r) -> Note:
    return Note(id=r.id, alert_id=r.alert_id, author=r.author, text=r.text, created_at=r.created_at)


def event_from_row(r) -> AuditEvent:
    return AuditEvent(seq=r.seq, at=r.at, actor=r.actor, action=r.action, subject=r.subject,
                      payload=json.loads(r.payload), prev_hash=r.prev_hash, hash=r.hash)


def payload_parses(payload: str) -> bool:
    try:
        json.loads(payload)
        return True
    except ValueError:
        return False
