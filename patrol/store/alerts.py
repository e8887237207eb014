"""Alerts and their review: opening, the queue, claims, decisions, notes, bulk actions, and the
decided alerts exported as training labels. Every change appends its audit event in the same
transaction; the rules of who may do what are `patrol.reviews`', re-checked against the user
as stored at that moment."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from patrol import reviews
from patrol.alerts import ACTIVE_STATUSES, CONFIRMED, DISMISSED, STATUSES, Alert, source_health_alert
from patrol.audit import VIEW_ACTIONS
from patrol.posts import text_problem
from patrol.reviews import Decision
from patrol.grouping import group_keys
from patrol.store import groups
from patrol.store.alert_query import SORTS, alert_conditions, decode_cursor, encode_cursor, rows_after
from patrol.store.chain import AuditChain
from patrol.store.database import SYSTEM_ACTOR, Database, findable
from patrol.store.engine import chunks, insert_ignore
from patrol.store.labels import label_decision
from patrol.store.records import (
    AlertDetail, AlertFilter, AlertPage, BulkOutcome, InvalidFilter, LabelExample, Note, QueueCounts, SaveReport,
    StoreError,
)
from patrol.store.rows import (
    alert_from_row, alert_values, event_from_row, locked_alert, locked_posts, note_from_row, save_review,
)
from patrol.store.schema import alert_labels, alerts, audit_log, notes
from patrol.store.users import acting_user
from patrol.taxonomy import SEVERITIES, SEVERITY_RANK
from patrol.users import User

MAX_PAGE = 500
MAX_BULK = 500


class AlertRepository:
    def __init__(self, db: Database):
        self._db = db

    # -- opening -----------------------------------------------------------------------------

    def open_in(self, conn: Connection, chain: AuditChain, a: Alert, versions: dict[str, int],
                now: datetime, report: SaveReport, thread_id: str = "") -> None:
        """Open `a` inside the caller's transaction (Store.save_batch's), about a post stored
        before or in the same batch (`versions`: post id -> version just written). A post alert
        whose key an active lead holds opens as that lead's member (patrol/store/groups.py)."""
        if a.status != "open":
            raise ValueError(f"alert {a.id} must be opened with status 'open', not {a.status!r}")
        if a.post_id is not None and a.post_id not in versions and not locked_posts(conn, [a.post_id]):
            raise ValueError(f"alert {a.id} is about post {a.post_id}, which is neither stored nor in this batch")
        keys, signature = group_keys(a, thread_id)
        lead = groups.find_lead(conn, keys, signature, a.severity) if keys else None
        values = alert_values(a)
        if lead is not None:
            values["group_id"] = lead[0]
        if a.post_id in versions:
            values["post_version"] = versions[a.post_id]
        if insert_ignore(conn, alerts, values) != 1:
            report.skipped_alert_ids.append(a.id)
            return
        if keys:
            groups.keep_keys(conn, lead[0] if lead else a.id, keys, signature)
        conn.execute(alert_labels.insert(), [{"alert_id": a.id, "label": label}
                                             for label in dict.fromkeys(a.labels or (a.category,))])
        # Ops alerts say what raised them: a source's health, or a burst (patrol/events/bursts.py).
        action = ("alert.opened" if not a.is_ops else "trend.alert" if a.category == "ops_trend"
                  else "source.health_alert")
        chain.append(now, SYSTEM_ACTOR, action, f"alert:{a.id}", {
            "post_id": a.post_id, "source": a.source, "category": a.category, "labels": list(a.labels),
            "severity": a.severity, "score": a.score, "rule": a.rule, "due_at": a.due_at.isoformat(),
            "content_sha256": a.content_sha256, "text": a.text if a.is_ops else None,
        })
        if lead is not None:
            groups.attached(conn, chain, lead[0], a, lead[1], now)
        report.opened_alert_ids.append(a.id)

    def open_source_health_alert(self, source: str, reason: str, now: datetime) -> Alert | None:
        """Open an ops alert for a silent or failing source; None when one is already active."""
        alert = source_health_alert(source, reason, now)
        report = SaveReport()
        with self._db.write() as conn:
            self.open_in(conn, AuditChain(conn, self._db.audit_key), alert, {}, now, report)
        return alert if report.opened_alert_ids else None

    # -- reading -----------------------------------------------------------------------------

    def alert_statuses(self, post_ids: Sequence[str]) -> dict[str, str]:
        """post id -> the status of its alert, for the posts among `post_ids` that have one."""
        found: dict[str, str] = {}
        with self._db.read() as conn:
            for chunk in chunks([i for i in post_ids if findable(i)], 500):
                rows = conn.execute(select(alerts.c.post_id, alerts.c.status).where(alerts.c.post_id.in_(chunk)))
                found.update((r.post_id, r.status) for r in rows)
        return found

    def list_alerts(self, f: AlertFilter = AlertFilter()) -> AlertPage:
        keys = SORTS.get(f.sort)
        if keys is None:
            raise InvalidFilter(f"sort must be one of {', '.join(SORTS)}, got {f.sort!r}")
        if not 1 <= f.limit <= MAX_PAGE:
            raise InvalidFilter(f"limit must be between 1 and {MAX_PAGE}, got {f.limit}")
        after = decode_cursor(f.cursor, f.sort, keys) if f.cursor else None
        descending = keys[0][1]
        # The page's keys first, one status at a time: within one status the keys come in order
        # straight from an index (ix_alerts_status_due, _opened, _group_due), and each read stops
        # after a page, where "status IN (...)" made the database sort every active alert. The
        # reads are merged here; then the page's rows are read by id (the sort moves small
        # index-sized rows, not frozen posts and analyses).
        columns = list(dict.fromkeys([alerts.c.id, *(c for c, _ in keys)]))
        key_rows = []
        with self._db.read() as conn:
            for status in _statuses(f):
                stmt = select(*columns).where(*alert_conditions(replace(f, status=(status,)), stops_early=True))
                if after is not None:
                    stmt = stmt.where(rows_after(keys, after))
                stmt = stmt.order_by(*[(c.desc() if d else c.asc()) for c, d in keys]).limit(f.limit + 1)
                key_rows += conn.execute(stmt).all()
            key_rows.sort(key=lambda r: tuple(getattr(r, c.name) for c, _ in keys), reverse=descending)
            key_rows = key_rows[: f.limit + 1]
            wanted = [r.id for r in key_rows[: f.limit]]
            full = {r.id: r for r in conn.execute(select(alerts).where(alerts.c.id.in_(wanted)))} if wanted else {}
        items = [alert_from_row(full[i]) for i in wanted if i in full]
        next_cursor = None
        if len(key_rows) > f.limit:
            last = key_rows[f.limit - 1]
            next_cursor = encode_cursor(f.sort, [getattr(last, c.name) for c, _ in keys])
        return AlertPage(items=items, next_cursor=next_cursor)

    def queue_counts(self, f: AlertFilter, now: datetime) -> QueueCounts:
        """How many cases (leads and ungrouped alerts: a group's members are in its lead's
        `group_size`) of the queue's filter are in each active status and each asked status, of
        each severity (within the asked statuses, or the active ones when none is asked), and how
        many active ones are overdue. Decided statuses are counted only when asked for: they grow
        without end.

        One read: (status, severity rank, overdue) groups over the statuses wanted, from the
        covering index ix_alerts_status_due (status, group_id, severity_rank, due_at, id);
        the three figures are sums of those groups. Three separate counts read the same rows
        three times, and the overdue one fetched each row from the table."""
        asked = (f.status,) if isinstance(f.status, str) else tuple(f.status or ())
        shown = set(asked or ACTIVE_STATUSES)
        wanted = tuple(dict.fromkeys(ACTIVE_STATUSES + asked))
        late = case((alerts.c.due_at < now, 1), else_=0)
        stmt = (select(alerts.c.status, alerts.c.severity_rank, func.count(), func.sum(late))
                .where(*alert_conditions(replace(f, status=wanted, severity=None)))
                .group_by(alerts.c.status, alerts.c.severity_rank))
        by_status: dict[str, int] = {}
        by_severity: dict[str, int] = {}
        overdue = 0
        wanted_rank = SEVERITY_RANK.get(f.severity) if f.severity else None
        with self._db.read() as conn:
            rows = conn.execute(stmt).all()
        for status, rank, n, n_late in rows:
            if status in shown and 0 <= rank < len(SEVERITIES):
                by_severity[SEVERITIES[rank]] = by_severity.get(SEVERITIES[rank], 0) + n
            if wanted_rank is not None and rank != wanted_rank:
                continue  # the severity filter narrows the status counts and the overdue count
            by_status[status] = by_status.get(status, 0) + n
            if status in shown and status in ACTIVE_STATUSES:
                overdue += int(n_late or 0)
        return QueueCounts(by_status=by_status, by_severity=by_severity, overdue=overdue)

    def alert_sources(self) -> list[str]:
        """Every source that has alerts, for the queue's pick-list (an index-only scan)."""
        with self._db.read() as conn:
            return list(conn.execute(select(alerts.c.source).distinct().order_by(alerts.c.source)).scalars())

    def get_alert(self, alert_id: str, now: datetime | None = None) -> AlertDetail | None:
        if not findable(alert_id):
            return None
        now = now or datetime.now(timezone.utc)
        with self._db.read() as conn:
            row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
            if row is None:
                return None
            note_rows = conn.execute(select(notes).where(notes.c.alert_id == alert_id).order_by(notes.c.id))
            history = conn.execute(select(audit_log).where(audit_log.c.subject == f"alert:{alert_id}",
                                                           audit_log.c.action.not_in(VIEW_ACTIONS))
                                   .order_by(audit_log.c.seq))
            alert = alert_from_row(row)
            return AlertDetail(alert=alert, notes=[note_from_row(n) for n in note_rows],
                               history=[event_from_row(e) for e in history], overdue=alert.overdue(now))

    def group_members(self, lead_id: str) -> list[Alert]:
        if not findable(lead_id):
            return []
        with self._db.read() as conn:
            return [alert_from_row(r) for r in conn.execute(
                select(alerts).where(alerts.c.group_id == lead_id).order_by(alerts.c.opened_at, alerts.c.id))]

    def export_labels(self) -> list[LabelExample]:
        """Every decided post alert as a training label: (text, category, decision, outcome)."""
        stmt = (select(alerts).where(alerts.c.status.in_((CONFIRMED, DISMISSED)), alerts.c.post_id.is_not(None))
                .order_by(alerts.c.decided_at, alerts.c.id))
        with self._db.read() as conn:
            return [LabelExample(
                alert_id=r.id, post_id=r.post_id, source=r.source, title=r.title, text=r.text,
                category=r.category, labels=tuple(r.labels), decision=r.decision, outcome=r.outcome,
                decided_at=r.decided_at, model_version=(r.analysis or {}).get("model_version", ""),
            ) for r in conn.execute(stmt)]

    # -- review ------------------------------------------------------------------------------

    def claim(self, alert_id: str, user: User | str, now: datetime) -> Alert:
        with self._db.write() as conn:
            return _claim(conn, AuditChain(conn, self._db.audit_key), alert_id, user, now)

    def release(self, alert_id: str, user: User | str, now: datetime) -> Alert:
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            actor = acting_user(conn, user)
            before = locked_alert(conn, alert_id)
            after = reviews.apply_release(before, actor, now)
            save_review(conn, after)
            chain.append(now, actor.name, "alert.released", f"alert:{alert_id}",
                         {"previous_assignee": before.assignee, "status": after.status})
            return after

    def assign(self, alert_id: str, assignee: str, user: User | str, now: datetime) -> Alert:
        """A supervisor (`user`) hands the alert to `assignee` (patrol.reviews.apply_assign)."""
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            actor = acting_user(conn, user)
            target = acting_user(conn, assignee)
            before = locked_alert(conn, alert_id)
            after = reviews.apply_assign(before, target, actor, now)
            if after is not before:
                save_review(conn, after)
                chain.append(now, actor.name, "alert.assigned", f"alert:{alert_id}",
                             {"previous_assignee": before.assignee, "assignee": target.name, "status": after.status})
            return after

    def decide(self, alert_id: str, decision: Decision, user: User | str, now: datetime) -> Alert:
        with self._db.write() as conn:
            return _decide(conn, AuditChain(conn, self._db.audit_key), alert_id, decision, user, now)

    def add_note(self, alert_id: str, user: User | str, text_: str, now: datetime) -> Note:
        body = (text_ or "").strip()
        if not body:
            raise reviews.DecisionError("a note must not be empty")
        if text_problem(body):
            raise reviews.DecisionError(f"a note {text_problem(body)}")
        if len(body) > reviews.MAX_NOTE_CHARS:
            raise reviews.DecisionError(f"a note must be at most {reviews.MAX_NOTE_CHARS} characters")
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            actor = acting_user(conn, user)
            if not actor.can_review:
                raise reviews.PermissionDenied(f"{actor.name} ({actor.role}) cannot add notes to alerts")
            locked_alert(conn, alert_id)
            note_id = conn.execute(notes.insert().values(alert_id=alert_id, author=actor.name, text=body,
                                                         created_at=now)).inserted_primary_key[0]
            chain.append(now, actor.name, "alert.note_added", f"alert:{alert_id}", {"note_id": note_id, "text": body})
            return Note(id=note_id, alert_id=alert_id, author=actor.name, text=body, created_at=now)

    def bulk(self, alert_ids: Sequence[str], action: str | Decision, user: User | str,
             now: datetime) -> list[BulkOutcome]:
        """Apply `action` ("claim", "release" or a Decision) to each alert, each in its own
        transaction, so one refusal does not undo the others. A Decision on an open alert claims
        it for the user first (both steps audited)."""
        if len(alert_ids) > MAX_BULK:
            raise InvalidFilter(f"bulk takes at most {MAX_BULK} alerts, got {len(alert_ids)}")
        if not isinstance(action, Decision) and action not in (reviews.CLAIM, reviews.RELEASE):
            raise InvalidFilter(f"bulk action must be claim, release or a decision, got {action!r}")
        outcomes = []
        for alert_id in dict.fromkeys(alert_ids):
            try:
                if action == reviews.CLAIM:
                    alert = self.claim(alert_id, user, now)
                elif action == reviews.RELEASE:
                    alert = self.release(alert_id, user, now)
                else:
                    alert = self._bulk_decide(alert_id, action, user, now)
                outcomes.append(BulkOutcome(alert_id, True, alert.status))
            except (StoreError, reviews.ReviewError) as exc:
                outcomes.append(BulkOutcome(alert_id, False, None, str(exc), exc))
        return outcomes

    def _bulk_decide(self, alert_id: str, decision: Decision, user: User | str, now: datetime) -> Alert:
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            alert = locked_alert(conn, alert_id)
            if alert.status == "open":
                _claim(conn, chain, alert_id, user, now)
            return _decide(conn, chain, alert_id, decision, user, now)


def _statuses(f: AlertFilter) -> tuple[str, ...]:
    """The statuses the filter asks for, each once (every status when it asks for none)."""
    if not f.status:
        return STATUSES
    return tuple(dict.fromkeys((f.status,) if isinstance(f.status, str) else f.status))


def _claim(conn: Connection, chain: AuditChain, alert_id: str, user: User | str, now: datetime) -> Alert:
    actor = acting_user(conn, user)
    before = locked_alert(conn, alert_id)
    after = reviews.apply_claim(before, actor, now)
    if after is not before:
        save_review(conn, after)
        chain.append(now, actor.name, "alert.claimed", f"alert:{alert_id}",
                     {"previous_assignee": before.assignee, "status": after.status})
    return after


def _decide(conn: Connection, chain: AuditChain, alert_id: str, decision: Decision,
            user: User | str, now: datetime) -> Alert:
    actor = acting_user(conn, user)
    before = locked_alert(conn, alert_id)
    after = reviews.apply_decision(before, decision, actor, now)
    save_review(conn, after)
    label_id = label_decision(conn, before, decision, actor.name, now)  # the decision teaches the model
    chain.append(now, actor.name, "alert.decided", f"alert:{alert_id}",
                 decision.to_dict() | {"from": before.status, "to": after.status, "label_id": label_id})
    if after.group_size > 1:
        groups.decide_members(conn, chain, after, actor.name, now)  # one decision for the group
    return after
