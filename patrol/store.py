"""The workflow database: posts and their versions, alerts and their review, notes, users, the audit
trail, and crawl state. SQLite by default (one file under PATROL_HOME), PostgreSQL in production.

Every change and its audit event are written in one transaction. Audit appends are serialised on
the `audit_head` row (SQLite: every write transaction is BEGIN IMMEDIATE; PostgreSQL: the head row
is locked FOR UPDATE first), so two writers can never fork the chain.
"""
from __future__ import annotations

import base64
import binascii
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import (
    JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text,
    TypeDecorator, and_, create_engine, event, func, or_, select, text, update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from patrol import audit as audit_mod
from patrol import reviews
from patrol.alerts import (
    ACTIVE_STATUSES, CONFIRMED, DISMISSED, OPS_SOURCE_HEALTH, STATUSES, Alert, source_health_alert,
)
from patrol.audit import GENESIS_HASH, AuditEvent, AuditVerification
from patrol.posts import RawPost, post_id_for, sha256_hex
from patrol.reviews import Decision
from patrol.taxonomy import SEVERITY_RANK
from patrol.users import DEFAULT_ROUNDS, User, UserError, check_name, check_password, check_role, hash_password

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SYSTEM_ACTOR = "system"
MAX_PAGE = 500
MAX_BULK = 500


# --- errors ---------------------------------------------------------------------------------

class StoreError(Exception):
    """Base of the errors the store raises on purpose."""


class NotFound(StoreError, KeyError):
    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "not found"


class UserExists(StoreError):
    pass


class InvalidFilter(StoreError, ValueError):
    """A bad AlertFilter value or cursor; says which field and why."""


# --- values ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PostRecord:
    """A post as the store keeps it: the latest version, with its analysis.

    fetched_at is the last fetch; first_seen is set by the store on first insert. `version` is
    the store's count of distinct (title, text) versions, starting at 1.
    """

    id: str
    source: str
    external_id: str
    url: str
    title: str
    text: str
    author: str = ""
    published_at: datetime | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    content_sha256: str = ""
    deleted_upstream: bool = False
    analysis: dict[str, Any] | None = None
    primary: str = "none"
    labels: tuple[str, ...] = ()
    version: int = 1
    first_seen: datetime | None = None
    indexed: bool = False

    @property
    def version_hash(self) -> str:
        # Same formula as RawPost.version_hash: an edit is a change of title or text.
        return sha256_hex(f"{self.title}\x1f{self.text}".encode("utf-8"))

    @classmethod
    def from_raw(cls, raw: RawPost, analysis: Any = None) -> "PostRecord":
        """`analysis`: an nlp.analysis.Analysis (or its dict form), or None when not analysed."""
        data = analysis.to_dict() if hasattr(analysis, "to_dict") else analysis
        return cls(
            id=raw.id, source=raw.source, external_id=raw.external_id, url=raw.url, title=raw.title,
            text=raw.text, author=raw.author, published_at=raw.published_at, fetched_at=raw.fetched_at,
            content_sha256=raw.content_sha256, deleted_upstream=raw.deleted_upstream, analysis=data,
            primary=(data or {}).get("primary", "none"), labels=tuple((data or {}).get("labels", ())),
        )


@dataclass(frozen=True)
class PostVersion:
    post_id: str
    version: int
    title: str
    text: str
    content_sha256: str
    fetched_at: datetime


@dataclass(frozen=True)
class SaveReport:
    new_post_ids: list[str] = field(default_factory=list)
    edited_post_ids: list[str] = field(default_factory=list)
    unchanged_post_ids: list[str] = field(default_factory=list)
    deleted_post_ids: list[str] = field(default_factory=list)
    opened_alert_ids: list[str] = field(default_factory=list)
    # Alerts not opened because the post already has one (or the source an active ops alert).
    skipped_alert_ids: list[str] = field(default_factory=list)

    @property
    def changed_post_ids(self) -> list[str]:
        """Posts the search index must (re)index."""
        return self.new_post_ids + self.edited_post_ids


@dataclass(frozen=True)
class AlertFilter:
    status: str | tuple[str, ...] | None = None
    category: str | None = None
    severity: str | None = None
    source: str | None = None
    assignee: str | None = None
    q: str | None = None  # case-insensitive substring of title or text
    opened_from: datetime | None = None  # inclusive
    opened_to: datetime | None = None  # exclusive
    sort: str = "severity_then_due"  # severity_then_due | newest | oldest | due
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class AlertPage:
    items: list[Alert]
    next_cursor: str | None


@dataclass(frozen=True)
class Note:
    id: int
    alert_id: str
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class AlertDetail:
    alert: Alert
    notes: list[Note]
    history: list[AuditEvent]
    overdue: bool


@dataclass(frozen=True)
class BulkOutcome:
    alert_id: str
    ok: bool
    status: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class LabelExample:
    """A reviewed alert as a training label: the post text, the category, and what the reviewer said."""

    alert_id: str
    post_id: str
    source: str
    title: str
    text: str
    category: str
    labels: tuple[str, ...]
    decision: str  # confirm | dismiss
    outcome: str  # the disposition or the dismiss reason
    decided_at: datetime
    model_version: str


@dataclass(frozen=True)
class SourceHealth:
    source: str
    last_pass_at: datetime | None
    last_success_at: datetime | None
    items_last_pass: int
    errors_last_pass: dict[str, int]
    consecutive_empty: int
    passes: int


# --- schema ---------------------------------------------------------------------------------

class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite has no time zones; it stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"times must be timezone-aware datetimes, got {value!r}")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


JSONType = JSON().with_variant(JSONB(), "postgresql")

metadata = MetaData()

posts = Table(
    "posts", metadata,
    Column("id", String(64), primary_key=True),
    Column("source", String(200), nullable=False),
    Column("external_id", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("author", Text, nullable=False),
    Column("published_at", UTCDateTime, nullable=True),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_fetched", UTCDateTime, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("version_hash", String(64), nullable=False),
    Column("deleted_upstream", Boolean, nullable=False),
    Column("analysis", JSONType, nullable=True),
    Column("primary", String(40), nullable=False),
    Column("labels", JSONType, nullable=False),
    Column("indexed", Boolean, nullable=False),
    Index("ix_posts_indexed_first_seen", "indexed", "first_seen"),
    Index("ix_posts_source", "source"),
)

post_versions = Table(
    "post_versions", metadata,
    Column("post_id", String(64), ForeignKey("posts.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("version_hash", String(64), nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
)

alerts = Table(
    "alerts", metadata,
    Column("id", String(64), primary_key=True),
    # Unique: at most one alert per post, ever, whichever process tries to open it.
    Column("post_id", String(64), ForeignKey("posts.id"), nullable=True, unique=True),
    Column("source", String(200), nullable=False),
    Column("category", String(40), nullable=False),
    Column("labels", JSONType, nullable=False),
    Column("severity", String(20), nullable=False),
    Column("severity_rank", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("status", String(20), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("rule", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("author", Text, nullable=False),
    Column("published_at", UTCDateTime, nullable=True),
    Column("fetched_at", UTCDateTime, nullable=True),
    Column("content_sha256", String(64), nullable=False),
    Column("analysis", JSONType, nullable=False),
    Column("post_version", Integer, nullable=False),
    Column("assignee", String(64), nullable=True),
    Column("claimed_at", UTCDateTime, nullable=True),
    Column("escalated", Boolean, nullable=False),
    Column("decision", String(20), nullable=True),
    Column("outcome", String(40), nullable=True),
    Column("decision_note", Text, nullable=False),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Index("ix_alerts_queue", "status", "severity_rank", "due_at"),
    Index("ix_alerts_opened_at", "opened_at"),
    Index("ix_alerts_category", "category"),
    Index("ix_alerts_source", "source"),
    Index("ix_alerts_assignee", "assignee"),
    # One active operations alert per source: a silent source does not flood the queue.
    Index("uq_alerts_active_ops_source", "source", unique=True,
          sqlite_where=text("post_id IS NULL AND status IN ('open', 'claimed', 'escalated')"),
          postgresql_where=text("post_id IS NULL AND status IN ('open', 'claimed', 'escalated')")),
)

notes = Table(
    "notes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", String(64), ForeignKey("alerts.id"), nullable=False),
    Column("author", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_notes_alert", "alert_id", "id"),
)

users = Table(
    "users", metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(100), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Index("ix_audit_subject", "subject", "seq"),
    Index("ix_audit_actor", "actor", "seq"),
    Index("ix_audit_action", "action", "seq"),
)

# One row (id 1): the last seq and hash. Appenders lock it, which serialises the chain.
audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

source_health = Table(
    "source_health", metadata,
    Column("source", String(200), primary_key=True),
    Column("last_pass_at", UTCDateTime, nullable=True),
    Column("last_success_at", UTCDateTime, nullable=True),
    Column("items_last_pass", Integer, nullable=False),
    Column("errors_last_pass", JSONType, nullable=False),
    Column("consecutive_empty", Integer, nullable=False),
    Column("passes", Integer, nullable=False),
)

crawl_state = Table(
    "crawl_state", metadata,
    Column("source", String(200), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("value", JSONType, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)


# --- the store ------------------------------------------------------------------------------

_SORTS = {
    # sort -> ((column, descending), ...); the alert id breaks ties so the order is total.
    "severity_then_due": ((alerts.c.severity_rank, False), (alerts.c.due_at, False), (alerts.c.id, False)),
    "newest": ((alerts.c.opened_at, True), (alerts.c.id, True)),
    "oldest": ((alerts.c.opened_at, False), (alerts.c.id, False)),
    "due": ((alerts.c.due_at, False), (alerts.c.id, False)),
}


class _Chain:
    """The audit chain inside one write transaction: locks the head on creation, appends after it."""

    def __init__(self, conn: Connection):
        self.conn = conn
        row = conn.execute(select(audit_head.c.seq, audit_head.c.hash)
                           .where(audit_head.c.id == 1).with_for_update()).one()
        self.seq, self.hash = row.seq, row.hash
        self.appended: list[AuditEvent] = []

    def append(self, at: datetime, actor: str, action: str, subject: str, payload: dict | None = None) -> AuditEvent:
        ev = audit_mod.next_event(self.seq, self.hash, at, actor, action, subject, payload)
        self.conn.execute(audit_log.insert().values(
            seq=ev.seq, at=ev.at, actor=ev.actor, action=ev.action, subject=ev.subject,
            payload=audit_mod.canonical_payload(ev.payload), prev_hash=ev.prev_hash, hash=ev.hash))
        self.conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=ev.seq, hash=ev.hash))
        self.seq, self.hash = ev.seq, ev.hash
        self.appended.append(ev)
        return ev


class Store:
    """The workflow database. `url`: a SQLAlchemy URL (sqlite:///path, postgresql://...).

    Construction runs the Alembic migrations to head. `password_rounds` is bcrypt's cost; only
    tests should lower it.
    """

    def __init__(self, url: str, password_rounds: int = DEFAULT_ROUNDS, echo: bool = False):
        self.url = url
        self.password_rounds = password_rounds
        self._engine = _make_engine(url, echo)
        self.dialect = self._engine.dialect.name
        self._migrate()
        # Checking a password for an unknown user costs as much as for a known one (no user probing).
        self._dummy_hash = hash_password("patrol-no-such-user", rounds=password_rounds)

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(patrol_write=True)
            with conn.begin():
                yield conn

    def _migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self._write() as conn:
            if self.dialect == "postgresql":
                # Two processes starting at once on an empty database must not both create tables.
                conn.execute(text("SELECT pg_advisory_xact_lock(7243951)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    # -- posts -------------------------------------------------------------------------------

    def classify_changes(self, raws: Sequence[RawPost]) -> list[str]:
        """Per raw post: "new" | "edited" | "unchanged" | "deleted" against what is stored."""
        ids = list({r.id for r in raws})
        known: dict[str, str] = {}
        with self._read() as conn:
            for chunk in _chunks(ids, 500):
                for row in conn.execute(select(posts.c.id, posts.c.version_hash).where(posts.c.id.in_(chunk))):
                    known[row.id] = row.version_hash
        out = []
        for r in raws:
            if r.deleted_upstream:
                out.append("deleted")
            elif r.id not in known:
                out.append("new")
            elif known[r.id] != r.version_hash:
                out.append("edited")
            else:
                out.append("unchanged")
        return out

    def save_batch(self, posts_in: Sequence[PostRecord], alerts_in: Sequence[Alert], now: datetime) -> SaveReport:
        """Upsert posts and open alerts in ONE transaction (see docs/CONTRACTS.md)."""
        report = SaveReport()
        versions: dict[str, int] = {}
        with self._write() as conn:
            # Lock order: chain head, then posts by id. Every writer follows it, so none deadlock.
            chain = _Chain(conn) if alerts_in else None
            for p in sorted(posts_in, key=lambda p: p.id):
                versions[p.id] = self._upsert_post(conn, p, now, report)
            for a in alerts_in:
                self._open_alert(conn, chain, a, versions, now, report)
        return report

    def _upsert_post(self, conn: Connection, p: PostRecord, now: datetime, report: SaveReport) -> int:
        if p.id != post_id_for(p.source, p.external_id):
            raise ValueError(f"post id {p.id} is not post_id_for({p.source!r}, {p.external_id!r})")
        row = _locked_post(conn, p.id)
        if row is None:
            values = _post_values(p) | {"version": 1, "first_seen": now, "indexed": False}
            if _insert_ignore(conn, posts, values) == 1:
                conn.execute(post_versions.insert().values(_version_values(p, 1)))
                (report.deleted_post_ids if p.deleted_upstream else report.new_post_ids).append(p.id)
                return 1
            row = _locked_post(conn, p.id)  # another writer inserted it first
        if p.deleted_upstream:
            # Gone upstream: keep the last text we saw, it is the evidence.
            conn.execute(update(posts).where(posts.c.id == p.id)
                         .values(deleted_upstream=True, last_fetched=p.fetched_at))
            report.deleted_post_ids.append(p.id)
            return row.version
        if row.version_hash == p.version_hash:
            conn.execute(update(posts).where(posts.c.id == p.id)
                         .values(last_fetched=p.fetched_at, deleted_upstream=False))
            report.unchanged_post_ids.append(p.id)
            return row.version
        version = row.version + 1
        conn.execute(update(posts).where(posts.c.id == p.id)
                     .values(_post_values(p) | {"version": version, "indexed": False}))
        conn.execute(post_versions.insert().values(_version_values(p, version)))
        report.edited_post_ids.append(p.id)
        return version

    def _open_alert(self, conn: Connection, chain: _Chain, a: Alert, versions: dict[str, int],
                    now: datetime, report: SaveReport) -> None:
        if a.status != "open":
            raise ValueError(f"alert {a.id} must be opened with status 'open', not {a.status!r}")
        if a.post_id is not None and a.post_id not in versions and _locked_post(conn, a.post_id) is None:
            raise ValueError(f"alert {a.id} is about post {a.post_id}, which is neither stored nor in this batch")
        values = _alert_values(a)
        if a.post_id in versions:
            values["post_version"] = versions[a.post_id]
        if _insert_ignore(conn, alerts, values) != 1:
            report.skipped_alert_ids.append(a.id)
            return
        action = "source.health_alert" if a.is_ops else "alert.opened"
        chain.append(now, SYSTEM_ACTOR, action, f"alert:{a.id}", {
            "post_id": a.post_id, "source": a.source, "category": a.category, "labels": list(a.labels),
            "severity": a.severity, "score": a.score, "rule": a.rule, "due_at": a.due_at.isoformat(),
            "content_sha256": a.content_sha256, "text": a.text if a.is_ops else None,
        })
        report.opened_alert_ids.append(a.id)

    def mark_indexed(self, post_ids: Iterable[str]) -> None:
        ids = list(post_ids)
        with self._write() as conn:
            for chunk in _chunks(ids, 500):
                conn.execute(update(posts).where(posts.c.id.in_(chunk)).values(indexed=True))

    def unindexed_post_ids(self, limit: int = 1000) -> list[str]:
        with self._read() as conn:
            rows = conn.execute(select(posts.c.id).where(posts.c.indexed.is_(False))
                                .order_by(posts.c.first_seen, posts.c.id).limit(limit))
            return [r.id for r in rows]

    def get_post(self, post_id: str) -> PostRecord | None:
        got = self.get_posts([post_id])
        return got[0] if got else None

    def get_posts(self, post_ids: Sequence[str]) -> list[PostRecord]:
        """The posts that exist, in the order asked."""
        found: dict[str, PostRecord] = {}
        with self._read() as conn:
            for chunk in _chunks(list(post_ids), 500):
                for row in conn.execute(select(posts).where(posts.c.id.in_(chunk))):
                    found[row.id] = _post_from_row(row)
        return [found[i] for i in post_ids if i in found]

    def post_versions(self, post_id: str) -> list[PostVersion]:
        with self._read() as conn:
            rows = conn.execute(select(post_versions).where(post_versions.c.post_id == post_id)
                                .order_by(post_versions.c.version))
            return [PostVersion(r.post_id, r.version, r.title, r.text, r.content_sha256, r.fetched_at)
                    for r in rows]

    # -- alerts ------------------------------------------------------------------------------

    def list_alerts(self, f: AlertFilter = AlertFilter()) -> AlertPage:
        keys = _SORTS.get(f.sort)
        if keys is None:
            raise InvalidFilter(f"sort must be one of {', '.join(_SORTS)}, got {f.sort!r}")
        if not 1 <= f.limit <= MAX_PAGE:
            raise InvalidFilter(f"limit must be between 1 and {MAX_PAGE}, got {f.limit}")
        stmt = select(alerts).where(*_alert_conditions(f))
        if f.cursor:
            stmt = stmt.where(_after(keys, _decode_cursor(f.cursor, f.sort, keys)))
        stmt = stmt.order_by(*[(c.desc() if d else c.asc()) for c, d in keys]).limit(f.limit + 1)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        items = [_alert_from_row(r) for r in rows[: f.limit]]
        next_cursor = None
        if len(rows) > f.limit:
            last = rows[f.limit - 1]
            next_cursor = _encode_cursor(f.sort, [getattr(last, c.name) for c, _ in keys])
        return AlertPage(items=items, next_cursor=next_cursor)

    def get_alert(self, alert_id: str, now: datetime | None = None) -> AlertDetail | None:
        now = now or datetime.now(timezone.utc)
        with self._read() as conn:
            row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
            if row is None:
                return None
            note_rows = conn.execute(select(notes).where(notes.c.alert_id == alert_id).order_by(notes.c.id))
            history = conn.execute(select(audit_log).where(audit_log.c.subject == f"alert:{alert_id}")
                                   .order_by(audit_log.c.seq))
            alert = _alert_from_row(row)
            return AlertDetail(alert=alert, notes=[_note_from_row(n) for n in note_rows],
                               history=[_event_from_row(e) for e in history], overdue=alert.overdue(now))

    def claim(self, alert_id: str, user: User | str, now: datetime) -> Alert:
        with self._write() as conn:
            return self._claim(conn, _Chain(conn), alert_id, user, now)

    def release(self, alert_id: str, user: User | str, now: datetime) -> Alert:
        with self._write() as conn:
            chain = _Chain(conn)
            actor = self._actor(conn, user)
            before = _locked_alert(conn, alert_id)
            after = reviews.apply_release(before, actor, now)
            _save_review(conn, after)
            chain.append(now, actor.name, "alert.released", f"alert:{alert_id}",
                         {"previous_assignee": before.assignee, "status": after.status})
            return after

    def decide(self, alert_id: str, decision: Decision, user: User | str, now: datetime) -> Alert:
        with self._write() as conn:
            return self._decide(conn, _Chain(conn), alert_id, decision, user, now)

    def add_note(self, alert_id: str, user: User | str, text_: str, now: datetime) -> Note:
        body = (text_ or "").strip()
        if not body:
            raise reviews.DecisionError("a note must not be empty")
        if len(body) > reviews.MAX_NOTE_CHARS:
            raise reviews.DecisionError(f"a note must be at most {reviews.MAX_NOTE_CHARS} characters")
        with self._write() as conn:
            chain = _Chain(conn)
            actor = self._actor(conn, user)
            if not actor.can_review:
                raise reviews.PermissionDenied(f"{actor.name} ({actor.role}) cannot add notes to alerts")
            _locked_alert(conn, alert_id)
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
                outcomes.append(BulkOutcome(alert_id, False, None, str(exc)))
        return outcomes

    def _bulk_decide(self, alert_id: str, decision: Decision, user: User | str, now: datetime) -> Alert:
        with self._write() as conn:
            chain = _Chain(conn)
            alert = _locked_alert(conn, alert_id)
            if alert.status == "open":
                self._claim(conn, chain, alert_id, user, now)
            return self._decide(conn, chain, alert_id, decision, user, now)

    def _claim(self, conn: Connection, chain: _Chain, alert_id: str, user: User | str, now: datetime) -> Alert:
        actor = self._actor(conn, user)
        before = _locked_alert(conn, alert_id)
        after = reviews.apply_claim(before, actor, now)
        if after is not before:
            _save_review(conn, after)
            chain.append(now, actor.name, "alert.claimed", f"alert:{alert_id}",
                         {"previous_assignee": before.assignee, "status": after.status})
        return after

    def _decide(self, conn: Connection, chain: _Chain, alert_id: str, decision: Decision,
                user: User | str, now: datetime) -> Alert:
        actor = self._actor(conn, user)
        before = _locked_alert(conn, alert_id)
        after = reviews.apply_decision(before, decision, actor, now)
        _save_review(conn, after)
        chain.append(now, actor.name, "alert.decided", f"alert:{alert_id}",
                     decision.to_dict() | {"from": before.status, "to": after.status})
        return after

    def open_source_health_alert(self, source: str, reason: str, now: datetime) -> Alert | None:
        """Open an ops alert for a silent or failing source; None when one is already active."""
        alert = source_health_alert(source, reason, now)
        report = self.save_batch([], [alert], now)
        return alert if report.opened_alert_ids else None

    def export_labels(self) -> list[LabelExample]:
        """Every decided post alert as a training label: (text, category, decision, outcome)."""
        stmt = (select(alerts).where(alerts.c.status.in_((CONFIRMED, DISMISSED)), alerts.c.post_id.is_not(None))
                .order_by(alerts.c.decided_at, alerts.c.id))
        with self._read() as conn:
            return [LabelExample(
                alert_id=r.id, post_id=r.post_id, source=r.source, title=r.title, text=r.text,
                category=r.category, labels=tuple(r.labels), decision=r.decision, outcome=r.outcome,
                decided_at=r.decided_at, model_version=(r.analysis or {}).get("model_version", ""),
            ) for r in conn.execute(stmt)]

    # -- users -------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str, actor: str = SYSTEM_ACTOR,
                 now: datetime | None = None) -> User:
        check_name(name)
        check_role(role)
        now = now or datetime.now(timezone.utc)
        password_hash = hash_password(password, rounds=self.password_rounds)
        with self._write() as conn:
            chain = _Chain(conn)
            if _insert_ignore(conn, users, {"name": name, "role": role, "password_hash": password_hash,
                                            "active": True, "created_at": now}) != 1:
                raise UserExists(f"user {name!r} already exists")
            chain.append(now, actor, "user.added", f"user:{name}", {"role": role})
        return User(name=name, role=role, active=True)

    def set_user(self, name: str, actor: str, now: datetime, *, role: str | None = None,
                 active: bool | None = None, password: str | None = None) -> User:
        """Change a user's role, active flag or password (audited as user.changed; never the password)."""
        values: dict[str, Any] = {}
        if role is not None:
            values["role"] = check_role(role)
        if active is not None:
            values["active"] = bool(active)
        if password is not None:
            values["password_hash"] = hash_password(password, rounds=self.password_rounds)
        with self._write() as conn:
            chain = _Chain(conn)
            if values and conn.execute(update(users).where(users.c.name == name).values(values)).rowcount != 1:
                raise NotFound(f"no user {name!r}")
            chain.append(now, actor, "user.changed", f"user:{name}",
                         {"role": role, "active": active, "password_changed": password is not None})
            row = conn.execute(select(users).where(users.c.name == name)).first()
            if row is None:
                raise NotFound(f"no user {name!r}")
            return User(row.name, row.role, row.active)

    def authenticate(self, name: str, password: str, now: datetime | None = None) -> User | None:
        """The user when the password matches and the user is active; every attempt is audited."""
        now = now or datetime.now(timezone.utc)
        with self._read() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        ok = check_password(password, row.password_hash if row else self._dummy_hash) and row is not None
        ok = ok and bool(row.active)
        self.record_event(name if row else SYSTEM_ACTOR, "user.login", f"user:{name}", {"ok": ok}, now)
        return User(row.name, row.role, row.active) if ok else None

    def get_user(self, name: str) -> User | None:
        with self._read() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        return User(row.name, row.role, row.active) if row else None

    def list_users(self) -> list[User]:
        with self._read() as conn:
            return [User(r.name, r.role, r.active) for r in conn.execute(select(users).order_by(users.c.name))]

    def _actor(self, conn: Connection, user: User | str) -> User:
        # Re-read in the transaction: a role change or deactivation takes effect at once.
        name = user.name if isinstance(user, User) else user
        row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            raise reviews.PermissionDenied(f"no user {name!r}")
        return User(row.name, row.role, row.active)

    # -- audit -------------------------------------------------------------------------------

    def record_event(self, actor: str, action: str, subject: str, payload: dict | None,
                     now: datetime) -> AuditEvent:
        """Append one event on its own, e.g. search.performed (who searched what) or watchlist.changed."""
        with self._write() as conn:
            return _Chain(conn).append(now, actor, action, subject, payload)

    def audit_events(self, after_seq: int = 0, limit: int = 100, actor: str | None = None,
                     action: str | None = None, subject: str | None = None) -> list[AuditEvent]:
        if not 1 <= limit <= 10_000:
            raise InvalidFilter(f"limit must be between 1 and 10000, got {limit}")
        stmt = select(audit_log).where(audit_log.c.seq > after_seq)
        if actor is not None:
            stmt = stmt.where(audit_log.c.actor == actor)
        if action is not None:
            stmt = stmt.where(audit_log.c.action == action)
        if subject is not None:
            stmt = stmt.where(audit_log.c.subject == subject)
        with self._read() as conn:
            return [_event_from_row(r) for r in conn.execute(stmt.order_by(audit_log.c.seq).limit(limit))]

    def verify_audit(self, chunk: int = 2000) -> AuditVerification:
        """Recompute the whole chain; also catches events cut off the end (the head row remembers)."""
        checked, prev_seq, prev_hash = 0, 0, GENESIS_HASH
        with self._read() as conn:
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).one()
            while True:
                rows = conn.execute(select(audit_log).where(audit_log.c.seq > prev_seq)
                                    .order_by(audit_log.c.seq).limit(chunk)).all()
                if not rows:
                    break
                try:
                    events = [_event_from_row(r) for r in rows]
                except ValueError:
                    bad = next(r.seq for r in rows if not _payload_parses(r.payload))
                    return AuditVerification(False, checked, bad, "payload is not valid JSON")
                result = audit_mod.verify_chain(events, prev_seq, prev_hash)
                checked += result.checked
                if not result.ok:
                    return AuditVerification(False, checked, result.first_bad_seq, result.reason)
                prev_seq, prev_hash = events[-1].seq, events[-1].hash
        if (head.seq, head.hash) != (prev_seq, prev_hash):
            return AuditVerification(False, checked, min(prev_seq, head.seq) + 1,
                                     f"the chain ends at seq {prev_seq} but its head records seq {head.seq}: "
                                     "events removed from the end or the head altered")
        return AuditVerification(True, checked)

    # -- crawl state and source health -------------------------------------------------------

    def record_source_pass(self, source: str, now: datetime, items: int,
                           errors: dict[str, int] | None = None) -> SourceHealth:
        """Record one crawl pass of a source. A pass with no items is empty, whatever the errors;
        the crawler opens an ops alert when consecutive_empty reaches its threshold."""
        errors = {str(k): int(v) for k, v in (errors or {}).items()}
        with self._write() as conn:
            row = conn.execute(select(source_health).where(source_health.c.source == source)).first()
            empty = (row.consecutive_empty if row else 0) + 1 if items == 0 else 0
            values = {"last_pass_at": now, "items_last_pass": items, "errors_last_pass": errors,
                      "consecutive_empty": empty, "passes": (row.passes if row else 0) + 1,
                      "last_success_at": now if items > 0 else (row.last_success_at if row else None)}
            if row is None:
                conn.execute(source_health.insert().values(source=source, **values))
            else:
                conn.execute(update(source_health).where(source_health.c.source == source).values(values))
        return SourceHealth(source=source, **{k: v for k, v in values.items() if k != "errors_last_pass"},
                            errors_last_pass=errors)

    def source_health(self) -> list[SourceHealth]:
        with self._read() as conn:
            return [SourceHealth(r.source, r.last_pass_at, r.last_success_at, r.items_last_pass,
                                 dict(r.errors_last_pass), r.consecutive_empty, r.passes)
                    for r in conn.execute(select(source_health).order_by(source_health.c.source))]

    def get_crawl_state(self, source: str, key: str) -> Any:
        with self._read() as conn:
            row = conn.execute(select(crawl_state.c.value).where(
                crawl_state.c.source == source, crawl_state.c.key == key)).first()
        return row.value if row else None

    def set_crawl_state(self, source: str, key: str, value: Any, now: datetime) -> None:
        with self._write() as conn:
            done = conn.execute(update(crawl_state).where(crawl_state.c.source == source, crawl_state.c.key == key)
                                .values(value=value, updated_at=now)).rowcount
            if not done:
                conn.execute(crawl_state.insert().values(source=source, key=key, value=value, updated_at=now))

    # -- summary -----------------------------------------------------------------------------

    def counts(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or datetime.now(timezone.utc)
        with self._read() as conn:
            def grouped(col) -> dict[str, int]:
                return {k: n for k, n in conn.execute(select(col, func.count()).group_by(col))}
            return {
                "posts": conn.execute(select(func.count()).select_from(posts)).scalar_one(),
                "posts_unindexed": conn.execute(select(func.count()).select_from(posts)
                                                .where(posts.c.indexed.is_(False))).scalar_one(),
                "alerts": conn.execute(select(func.count()).select_from(alerts)).scalar_one(),
                "alerts_by_status": grouped(alerts.c.status),
                "alerts_by_category": grouped(alerts.c.category),
                "alerts_overdue": conn.execute(select(func.count()).select_from(alerts).where(
                    alerts.c.status.in_(ACTIVE_STATUSES), alerts.c.due_at < now)).scalar_one(),
                "audit_events": conn.execute(select(audit_head.c.seq).where(audit_head.c.id == 1)).scalar_one(),
            }


# --- helpers: engine ------------------------------------------------------------------------

def _make_engine(url: str, echo: bool) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    if not url.startswith("sqlite"):
        return create_engine(url, echo=echo, pool_pre_ping=True, future=True)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False},
                           poolclass=StaticPool if memory else None)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN, so writes can ask for IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A write takes SQLite's write lock up front: two writers reading the same chain head
        # and then both appending (a fork) is impossible, and no deferred upgrade can deadlock.
        conn.exec_driver_sql("BEGIN")

    return engine


def _insert_ignore(conn: Connection, table: Table, values: dict) -> int:
    """INSERT that does nothing on a unique conflict; 1 when the row went in, 0 otherwise."""
    ins = pg_insert(table) if conn.dialect.name == "postgresql" else sqlite_insert(table)
    return conn.execute(ins.values(values).on_conflict_do_nothing()).rowcount


def _chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


# --- helpers: rows <-> values ---------------------------------------------------------------

def _locked_post(conn: Connection, post_id: str):
    return conn.execute(select(posts.c.id, posts.c.version, posts.c.version_hash, posts.c.deleted_upstream)
                        .where(posts.c.id == post_id).with_for_update()).first()


def _locked_alert(conn: Connection, alert_id: str) -> Alert:
    row = conn.execute(select(alerts).where(alerts.c.id == alert_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"no alert {alert_id!r}")
    return _alert_from_row(row)


def _post_values(p: PostRecord) -> dict[str, Any]:
    return {
        "id": p.id, "source": p.source, "external_id": p.external_id, "url": p.url, "title": p.title,
        "text": p.text, "author": p.author, "published_at": p.published_at, "last_fetched": p.fetched_at,
        "content_sha256": p.content_sha256, "version_hash": p.version_hash,
        "deleted_upstream": p.deleted_upstream, "analysis": p.analysis, "primary": p.primary,
        "labels": list(p.labels),
    }


def _version_values(p: PostRecord, version: int) -> dict[str, Any]:
    return {"post_id": p.id, "version": version, "title": p.title, "text": p.text,
            "content_sha256": p.content_sha256, "version_hash": p.version_hash, "fetched_at": p.fetched_at}


def _post_from_row(r) -> PostRecord:
    return PostRecord(
        id=r.id, source=r.source, external_id=r.external_id, url=r.url, title=r.title, text=r.text,
        author=r.author, published_at=r.published_at, fetched_at=r.last_fetched,
        content_sha256=r.content_sha256, deleted_upstream=r.deleted_upstream, analysis=r.analysis,
        primary=r.primary, labels=tuple(r.labels), version=r.version, first_seen=r.first_seen,
        indexed=r.indexed,
    )


_REVIEW_FIELDS = ("status", "assignee", "claimed_at", "escalated", "decision", "outcome", "decision_note",
                  "decided_by", "decided_at")


def _alert_values(a: Alert) -> dict[str, Any]:
    if a.status not in STATUSES:
        raise ValueError(f"alert {a.id}: unknown status {a.status!r}")
    return {
        "id": a.id, "post_id": a.post_id, "source": a.source, "category": a.category,
        "labels": list(a.labels), "severity": a.severity, "severity_rank": SEVERITY_RANK[a.severity],
        "score": a.score, "opened_at": a.opened_at, "due_at": a.due_at, "rule": a.rule,
        "title": a.title, "text": a.text, "url": a.url, "author": a.author, "published_at": a.published_at,
        "fetched_at": a.fetched_at, "content_sha256": a.content_sha256, "analysis": a.analysis or {},
        "post_version": a.post_version,
    } | {k: getattr(a, k) for k in _REVIEW_FIELDS}


def _save_review(conn: Connection, a: Alert) -> None:
    conn.execute(update(alerts).where(alerts.c.id == a.id).values({k: getattr(a, k) for k in _REVIEW_FIELDS}))


def _alert_from_row(r) -> Alert:
    return Alert(
        id=r.id, post_id=r.post_id, source=r.source, category=r.category, labels=tuple(r.labels),
        severity=r.severity, score=r.score, status=r.status, opened_at=r.opened_at, due_at=r.due_at,
        rule=r.rule, title=r.title, text=r.text, url=r.url, author=r.author, published_at=r.published_at,
        fetched_at=r.fetched_at, content_sha256=r.content_sha256, analysis=dict(r.analysis or {}),
        post_version=r.post_version, assignee=r.assignee, claimed_at=r.claimed_at, escalated=r.escalated,
        decision=r.decision, outcome=r.outcome, decision_note=r.decision_note, decided_by=r.decided_by,
        decided_at=r.decided_at,
    )


def _note_from_row(r) -> Note:
    return Note(id=r.id, alert_id=r.alert_id, author=r.author, text=r.text, created_at=r.created_at)


def _event_from_row(r) -> AuditEvent:
    return AuditEvent(seq=r.seq, at=r.at, actor=r.actor, action=r.action, subject=r.subject,
                      payload=json.loads(r.payload), prev_hash=r.prev_hash, hash=r.hash)


def _payload_parses(payload: str) -> bool:
    try:
        json.loads(payload)
        return True
    except ValueError:
        return False


# --- helpers: filters and cursors -----------------------------------------------------------

def _alert_conditions(f: AlertFilter) -> list:
    conds = []
    if f.status:
        wanted = (f.status,) if isinstance(f.status, str) else tuple(f.status)
        bad = [s for s in wanted if s not in STATUSES]
        if bad:
            raise InvalidFilter(f"status must be among {', '.join(STATUSES)}, got {bad[0]!r}")
        conds.append(alerts.c.status.in_(wanted))
    if f.severity:
        if f.severity not in SEVERITY_RANK:
            raise InvalidFilter(f"severity must be one of {', '.join(SEVERITY_RANK)}, got {f.severity!r}")
        conds.append(alerts.c.severity == f.severity)
    for name in ("category", "source", "assignee"):
        value = getattr(f, name)
        if value:
            conds.append(alerts.c[name] == value)
    if f.q:
        conds.append(or_(alerts.c.title.icontains(f.q, autoescape=True),
                         alerts.c.text.icontains(f.q, autoescape=True)))
    for name, value in (("opened_from", f.opened_from), ("opened_to", f.opened_to)):
        if value is not None and value.tzinfo is None:
            raise InvalidFilter(f"{name} must carry a time zone, got {value.isoformat()}")
    if f.opened_from is not None:
        conds.append(alerts.c.opened_at >= f.opened_from)
    if f.opened_to is not None:
        conds.append(alerts.c.opened_at < f.opened_to)
    return conds


def _after(keys, values) -> Any:
    """Rows strictly after `values` in the order of `keys` (keyset pagination, stable under inserts)."""
    clauses = []
    for i, (col, desc) in enumerate(keys):
        beyond = col < values[i] if desc else col > values[i]
        clauses.append(and_(*[keys[j][0] == values[j] for j in range(i)], beyond))
    return or_(*clauses)


def _encode_cursor(sort: str, values: list) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps({"s": sort, "v": plain}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, keys) -> list:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if data["s"] != sort or len(data["v"]) != len(keys):
            raise InvalidFilter(f"cursor belongs to sort {data['s']!r}, not {sort!r}")
        values = []
        for (col, _), v in zip(keys, data["v"]):
            values.append(datetime.fromisoformat(v) if isinstance(col.type, UTCDateTime) else v)
        return values
    except InvalidFilter:
        raise
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidFilter(f"cursor is not one this server issued ({exc.__class__.__name__})") from None
