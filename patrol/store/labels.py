"""Officers' labels and the daily recall sample (issue 15): writing labels (from a decision,
inside its transaction, or on their own from the sample queue and search), drawing a day's
sample, the queue, the training rows and the figures (miss rate, precision).

The rules (what a decision labels, the sample's allocation, the interval) are patrol.labels'.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection

from patrol import labels as rules
from patrol.alerts import Alert
from patrol.posts import analysed_text
from patrol.reviews import Decision, PermissionDenied
from patrol.store.chain import AuditChain
from patrol.store.database import SYSTEM_ACTOR, Database, findable
from patrol.store.engine import insert_ignore
from patrol.store.label_schema import post_labels, recall_samples
from patrol.store.records import InvalidFilter, NotFound
from patrol.store.schema import alerts, post_versions, posts
from patrol.store.users import acting_user
from patrol.users import User

MAX_SAMPLE = 1000


@dataclass(frozen=True)
class PostLabel:
    id: int
    post_id: str
    post_version: int
    category: str
    origin: str
    alert_id: str | None
    decision: str | None
    outcome: str | None
    predicted: str | None
    labelled_by: str
    labelled_at: datetime


@dataclass(frozen=True)
class SampledPost:
    """A post of a day's recall sample, as the labelling queue shows it."""

    day: str
    post_id: str
    source: str
    title: str
    text: str
    primary: str  # what the classifier said (no alert was raised)
    label: str | None  # the officer's label, once given


@dataclass(frozen=True)
class TrainingLabels:
    rows: list[dict]  # patrol.labels.export_row rows, one per post (its latest label)
    skipped: list[str]  # "post <id>: reason" for labels that cannot be exported


def _label_from_row(r) -> PostLabel:
    return PostLabel(r.id, r.post_id, r.post_version, r.category, r.origin, r.alert_id, r.decision,
                     r.outcome, r.predicted, r.labelled_by, r.labelled_at)


def insert_label(conn: Connection, *, post_id: str, post_version: int, category: str, origin: str,
                 user: str, now: datetime, alert_id: str | None = None, decision: str | None = None,
                 outcome: str | None = None, predicted: str | None = None) -> int:
    if origin not in rules.ORIGINS:
        raise rules.LabelError(f"unknown label origin {origin!r}; one of {', '.join(rules.ORIGINS)}")
    rules.check_category(category)
    label_id = conn.execute(post_labels.insert().values(
        post_id=post_id, post_version=post_version, category=category, origin=origin, alert_id=alert_id,
        decision=decision, outcome=outcome, predicted=predicted, labelled_by=user, labelled_at=now,
    )).inserted_primary_key[0]
    # A post of a recall sample labelled from anywhere (search, a later alert) leaves the queue.
    conn.execute(update(recall_samples).where(recall_samples.c.post_id == post_id,
                                              recall_samples.c.label_id.is_(None)).values(label_id=label_id))
    return label_id


def label_decision(conn: Connection, before: Alert, decision: Decision, actor: str, now: datetime) -> int | None:
    """Inside Store.decide's transaction: the label the decision gives the alert's post, if any."""
    if before.post_id is None:
        return None
    category = rules.label_for_decision(before.category, decision)
    if category is None:
        return None
    return insert_label(conn, post_id=before.post_id, post_version=before.post_version, category=category,
                        origin=rules.ORIGIN_ALERT, user=actor, now=now, alert_id=before.id,
                        decision=decision.action, outcome=decision.outcome, predicted=before.category)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, timezone.utc)
    return start, start + timedelta(days=1)


class LabelRepository:
    def __init__(self, db: Database):
        self._db = db

    def label_post(self, post_id: str, category: str, user: User | str, now: datetime,
                   origin: str = rules.ORIGIN_SEARCH) -> PostLabel:
        """An officer's label on a post that no decision covers (the recall sample, search).
        Audited as post.labelled; the post must exist."""
        if origin == rules.ORIGIN_ALERT:
            raise rules.LabelError("alert labels come from decisions (Store.decide), not label_post")
        rules.check_category(category)
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            actor = acting_user(conn, user)
            if not actor.can_review:
                raise PermissionDenied(f"{actor.name} ({actor.role}) cannot label posts; officers and supervisors can")
            row = conn.execute(select(posts.c.id, posts.c.version).where(posts.c.id == post_id)
                               .with_for_update()).first() if findable(post_id) else None
            if row is None:
                raise NotFound(f"no post {post_id!r}")
            label_id = insert_label(conn, post_id=post_id, post_version=row.version, category=category,
                                    origin=origin, user=actor.name, now=now)
            chain.append(now, actor.name, "post.labelled", f"post:{post_id}",
                         {"label_id": label_id, "category": category, "origin": origin, "version": row.version})
            return _label_from_row(conn.execute(select(post_labels).where(post_labels.c.id == label_id)).one())

    def post_labels(self, post_id: str) -> list[PostLabel]:
        if not findable(post_id):
            return []
        with self._db.read() as conn:
            return [_label_from_row(r) for r in conn.execute(
                select(post_labels).where(post_labels.c.post_id == post_id).order_by(post_labels.c.id))]

    # -- the recall sample -------------------------------------------------------------------

    def draw_recall_sample(self, day: date, size: int, now: datetime, seed: int | None = None) -> list[SampledPost]:
        """Draw `day`'s sample of posts first seen that day (UTC) that raised no alert, allocated
        to sources by patrol.labels.allocate_sample. A day is drawn once: drawing it again returns
        the sample already drawn, so two schedulers cannot double the queue."""
        if not 1 <= size <= MAX_SAMPLE:
            raise InvalidFilter(f"sample size must be between 1 and {MAX_SAMPLE}, got {size}")
        key = day.isoformat()
        start, end = _day_bounds(day)
        no_alert = and_(posts.c.first_seen >= start, posts.c.first_seen < end,
                        ~select(alerts.c.id).where(alerts.c.post_id == posts.c.id).exists())
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)  # the chain head's lock serialises two draws of the same day
            if conn.execute(select(func.count()).select_from(recall_samples)
                            .where(recall_samples.c.day == key)).scalar_one():
                return self._sample_rows(conn, key)
            by_source = dict(conn.execute(select(posts.c.source, func.count()).where(no_alert)
                                          .group_by(posts.c.source)).all())
            rng = random.Random(seed)
            for source, n in rules.allocate_sample(by_source, size).items():
                ids = [r.id for r in conn.execute(select(posts.c.id).where(no_alert, posts.c.source == source)
                                                  .order_by(posts.c.id))]
                for post_id in rng.sample(ids, n):
                    insert_ignore(conn, recall_samples, {"day": key, "post_id": post_id, "source": source,
                                                         "drawn_at": now})
            drawn = self._sample_rows(conn, key)
            chain.append(now, SYSTEM_ACTOR, "recall_sample.drawn", f"recall_sample:{key}",
                         {"size": len(drawn), "by_source": {s: n for s, n in sorted(
                             _count_by(drawn, lambda p: p.source).items())}})
            return drawn

    def recall_queue(self, day: date | None = None, limit: int = 100, pending_only: bool = True) -> list[SampledPost]:
        """Sampled posts (of `day`, or of every day, oldest day first) still waiting for a label."""
        with self._db.read() as conn:
            return self._sample_rows(conn, day.isoformat() if day else None, limit, pending_only)

    def _sample_rows(self, conn: Connection, day: str | None, limit: int = MAX_SAMPLE,
                     pending_only: bool = False) -> list[SampledPost]:
        stmt = (select(recall_samples.c.day, recall_samples.c.post_id, recall_samples.c.source, posts.c.title,
                       posts.c.text, posts.c.primary, post_labels.c.category)
                .join(posts, posts.c.id == recall_samples.c.post_id)
                .outerjoin(post_labels, post_labels.c.id == recall_samples.c.label_id))
        if day:
            stmt = stmt.where(recall_samples.c.day == day)
        if pending_only:
            stmt = stmt.where(recall_samples.c.label_id.is_(None))
        stmt = stmt.order_by(recall_samples.c.day, recall_samples.c.source, recall_samples.c.post_id).limit(limit)
        return [SampledPost(r.day, r.post_id, r.source, r.title, r.text, r.primary, r.category)
                for r in conn.execute(stmt)]

    # -- training rows and figures -----------------------------------------------------------

    def training_labels(self, since: datetime | None = None) -> TrainingLabels:
        """Each labelled post once, with its latest label (labelled at or after `since`), and the
        text of the version the officer read, as the analyzer saw it (title, newline, text)."""
        latest = select(func.max(post_labels.c.id).label("id")).group_by(post_labels.c.post_id)
        if since is not None:
            latest = latest.where(post_labels.c.labelled_at >= since)
        stmt = (select(post_labels.c.id, post_labels.c.post_id, post_labels.c.post_version, post_labels.c.category,
                       post_versions.c.title, post_versions.c.text, posts.c.id.label("still_there"))
                .where(post_labels.c.id.in_(latest.subquery().select()))
                .outerjoin(posts, posts.c.id == post_labels.c.post_id)
                .outerjoin(post_versions, and_(post_versions.c.post_id == post_labels.c.post_id,
                                               post_versions.c.version == post_labels.c.post_version))
                .order_by(post_labels.c.id))
        rows, skipped = [], []
        with self._db.read() as conn:
            for r in conn.execute(stmt):
                if r.still_there is None or r.text is None:
                    skipped.append(f"post {r.post_id}: no longer stored (label {r.id}); skipped")
                    continue
                text = analysed_text(r.title or "", r.text)
                if not text.strip():
                    skipped.append(f"post {r.post_id}: empty text (label {r.id}); skipped")
                    continue
                rows.append(rules.export_row(r.post_id, text, r.category))
        return TrainingLabels(rows, skipped)

    def label_figures(self, since: datetime | None = None) -> dict:
        """The miss rate per category from the recall sample's labels and the precision per
        category from decisions, each with its 95% Wilson interval (patrol.labels.wilson)."""
        with self._db.read() as conn:
            sample = select(post_labels.c.category).join(recall_samples, recall_samples.c.label_id == post_labels.c.id)
            decided = select(post_labels.c.predicted, post_labels.c.category).where(
                post_labels.c.origin == rules.ORIGIN_ALERT)
            if since is not None:
                sample = sample.where(post_labels.c.labelled_at >= since)
                decided = decided.where(post_labels.c.labelled_at >= since)
            sampled = [r.category for r in conn.execute(sample)]
            decisions = [(r.predicted, r.category) for r in conn.execute(decided)]
        harm = [c for c in rules.LABEL_CATEGORIES if c != "none"]
        miss = {c: rules.wilson(sum(1 for s in sampled if s == c), len(sampled)).to_dict() for c in harm}
        precision = {}
        for c in harm:
            of_c = [label for predicted, label in decisions if predicted == c]
            if of_c:
                precision[c] = rules.wilson(sum(1 for label in of_c if label == c), len(of_c)).to_dict()
        return {"interval": "95% Wilson score interval", "sampled_labelled": len(sampled),
                "decisions": len(decisions), "miss_rate": miss, "precision": precision}


def _count_by(items, key) -> dict:
    out: dict = {}
    for item in items:
        out[key(item)] = out.get(key(item), 0) + 1
    return out
