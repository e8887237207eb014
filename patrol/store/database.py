"""The workflow database: posts and their versions, alerts and their review, notes, users, the audit
trail, and crawl state. SQLite by default (one file under PATROL_HOME), PostgreSQL in production.

Every change and its audit event are written in one transaction. Audit appends are serialised on
the `audit_head` row (SQLite: every write transaction is BEGIN IMMEDIATE; PostgreSQL: the head row
is locked FOR UPDATE first), so two writers can never fork the chain.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from patrol import audit as audit_mod
from patrol import reviews
from patrol.alerts import ACTIVE_STATUSES, CONFIRMED, DISMISSED, Alert, source_health_alert
from patrol.audit import GENESIS_HASH, AuditEvent, AuditVerification
from patrol.posts import RawPost, post_id_for, text_problem
from patrol.reviews import Decision
from patrol.store.alert_query import SORTS, alert_conditions, decode_cursor, encode_cursor, rows_after
from patrol.store.chain import AuditChain
from patrol.store.engine import chunks, insert_ignore, insert_ignore_stmt, make_engine
from patrol.store.records import (
    AlertDetail, AlertFilter, AlertPage, BulkOutcome, InvalidFilter, LabelExample, Note, NotFound, PostRecord,
    PostVersion, SaveReport, SourceHealth, StoreError, StoreUnavailable, UserExists,
)
from patrol.store.rows import (
    MARK_VERSION_INDEXED, TOUCH_POST, alert_from_row, alert_values, event_from_row, locked_alert, locked_posts,
    note_from_row, payload_parses, post_from_row, post_values, save_review, version_values,
)
from patrol.store.schema import (
    alerts, audit_head, audit_log, crawl_state, notes, post_versions, posts, source_health, users,
)
from patrol.users import DEFAULT_ROUNDS, User, UserError, check_name, check_password, check_role, hash_password

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SYSTEM_ACTOR = "system"
MAX_PAGE = 500
MAX_BULK = 500
MAX_SEQ = 2**31 - 1  # the audit seq column is a 32-bit integer on PostgreSQL


def findable(key: Any) -> bool:
    """Whether `key` could be the id or name of a stored row. Keys that cannot (a NUL, a lone
    surrogate: no row holds one) are not looked up, because PostgreSQL would refuse the query itself."""
    return isinstance(key, str) and text_problem(key) is None


class Store:
    """The workflow database. `url`: a SQLAlchemy URL (sqlite:///path, postgresql://...).

    Construction runs the Alembic migrations to head. `password_rounds` is bcrypt's cost; only
    tests should lower it.
    """

    def __init__(self, url: str, password_rounds: int = DEFAULT_ROUNDS, echo: bool = False):
        self.url = url
        self.password_rounds = password_rounds
        self._engine = make_engine(url, echo)
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
        with self._unavailable_as_error(), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._unavailable_as_error(), self._engine.connect() as conn:
            conn.execution_options(patrol_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _unavailable_as_error(self) -> Iterator[None]:
        # Locked (SQLite's busy timeout ran out), unreachable or out of disk: the transaction was
        # rolled back, and callers (ingest, crawl, the API's 503) say so instead of crashing.
        try:
            yield
        except OperationalError as exc:
            where = self._engine.url.render_as_string(hide_password=True)
            raise StoreUnavailable(f"the workflow database {where} is unavailable: {exc.orig}") from exc

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
            for chunk in chunks(ids, 500):
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
        for p in posts_in:
            if p.id != post_id_for(p.source, p.external_id):
                raise ValueError(f"post id {p.id} is not post_id_for({p.source!r}, {p.external_id!r})")
        report = SaveReport()
        with self._write() as conn:
            # Lock order: chain head, then posts by id. Every writer follows it, so none deadlock.
            chain = AuditChain(conn) if alerts_in else None
            versions = self._upsert_posts(conn, posts_in, now, report)
            for a in alerts_in:
                self._open_alert(conn, chain, a, versions, now, report)
        return report

    def _upsert_posts(self, conn: Connection, posts_in: Sequence[PostRecord], now: datetime,
                      report: SaveReport) -> dict[str, int]:
        """The batch path: new posts and unchanged re-fetches (nearly all of a crawl) are written
        with one statement each; edits, deletions and a post repeated within the batch go one by one."""
        firsts: dict[str, PostRecord] = {}
        repeats: list[PostRecord] = []
        for p in posts_in:
            if p.id in firsts:
                repeats.append(p)
            else:
                firsts[p.id] = p
        ids = sorted(firsts)
        existing = locked_posts(conn, ids)
        versions: dict[str, int] = {}
        fresh = [firsts[i] for i in ids if i not in existing]
        if fresh:
            rows = [post_values(p) | {"version": 1, "first_seen": now, "indexed": False} for p in fresh]
            inserted = set(conn.execute(insert_ignore_stmt(conn, posts).returning(posts.c.id), rows).scalars())
            won = [p for p in fresh if p.id in inserted]
            if won:
                conn.execute(post_versions.insert(), [version_values(p, 1) for p in won])
            for p in won:
                versions[p.id] = 1
                (report.deleted_post_ids if p.deleted_upstream else report.new_post_ids).append(p.id)
            # Another writer inserted these between our read and our insert: they are existing posts now.
            existing.update(locked_posts(conn, [p.id for p in fresh if p.id not in inserted]))
        touched = []
        for post_id in ids:
            if post_id in versions:
                continue
            p, row = firsts[post_id], existing[post_id]
            if not p.deleted_upstream and row.version_hash == p.version_hash:
                touched.append({"b_id": post_id, "b_fetched": p.fetched_at})
                report.unchanged_post_ids.append(post_id)
                versions[post_id] = row.version
            else:
                versions[post_id] = self._change_post(conn, p, row, report)
        if touched:
            conn.execute(TOUCH_POST, touched)
        for p in repeats:
            versions[p.id] = self._change_post(conn, p, locked_posts(conn, [p.id])[p.id], report)
        return versions

    def _change_post(self, conn: Connection, p: PostRecord, row, report: SaveReport) -> int:
        """Apply one fetch of a stored post: deleted upstream, unchanged, or a new version."""
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
                     .values(post_values(p) | {"version": version, "indexed": False}))
        conn.execute(post_versions.insert().values(version_values(p, version)))
        report.edited_post_ids.append(p.id)
        return version

    def _open_alert(self, conn: Connection, chain: AuditChain, a: Alert, versions: dict[str, int],
                    now: datetime, report: SaveReport) -> None:
        if a.status != "open":
            raise ValueError(f"alert {a.id} must be opened with status 'open', not {a.status!r}")
        if a.post_id is not None and a.post_id not in versions and not locked_posts(conn, [a.post_id]):
            raise ValueError(f"alert {a.id} is about post {a.post_id}, which is neither stored nor in this batch")
        values = alert_values(a)
        if a.post_id in versions:
            values["post_version"] = versions[a.post_id]
        if insert_ignore(conn, alerts, values) != 1:
            report.skipped_alert_ids.append(a.id)
            return
        action = "source.health_alert" if a.is_ops else "alert.opened"
        chain.append(now, SYSTEM_ACTOR, action, f"alert:{a.id}", {
            "post_id": a.post_id, "source": a.source, "category": a.category, "labels": list(a.labels),
            "severity": a.severity, "score": a.score, "rule": a.rule, "due_at": a.due_at.isoformat(),
            "content_sha256": a.content_sha256, "text": a.text if a.is_ops else None,
        })
        report.opened_alert_ids.append(a.id)

    def mark_indexed(self, posts_done: Iterable[str | PostRecord]) -> None:
        """Record that posts are in the search index. Pass the PostRecords that were indexed (not
        just ids) and a post edited meanwhile by another process stays unindexed, as it should."""
        ids, exact = [], []
        for p in posts_done:
            if isinstance(p, PostRecord):
                exact.append({"b_id": p.id, "b_version": p.version})
            else:
                ids.append(p)
        with self._write() as conn:
            for chunk in chunks(ids, 500):
                conn.execute(update(posts).where(posts.c.id.in_(chunk)).values(indexed=True))
            if exact:
                conn.execute(MARK_VERSION_INDEXED, exact)

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
            for chunk in chunks([i for i in post_ids if findable(i)], 500):
                for row in conn.execute(select(posts).where(posts.c.id.in_(chunk))):
                    found[row.id] = post_from_row(row)
        return [found[i] for i in post_ids if i in found]

    def post_versions(self, post_id: str) -> list[PostVersion]:
        if not findable(post_id):
            return []
        with self._read() as conn:
            rows = conn.execute(select(post_versions).where(post_versions.c.post_id == post_id)
                                .order_by(post_versions.c.version))
            return [PostVersion(r.post_id, r.version, r.title, r.text, r.content_sha256, r.fetched_at)
                    for r in rows]

    # -- alerts ------------------------------------------------------------------------------

    def alert_statuses(self, post_ids: Sequence[str]) -> dict[str, str]:
        """post id -> the status of its alert, for the posts among `post_ids` that have one."""
        found: dict[str, str] = {}
        with self._read() as conn:
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
        stmt = select(alerts).where(*alert_conditions(f))
        if f.cursor:
            stmt = stmt.where(rows_after(keys, decode_cursor(f.cursor, f.sort, keys)))
        stmt = stmt.order_by(*[(c.desc() if d else c.asc()) for c, d in keys]).limit(f.limit + 1)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        items = [alert_from_row(r) for r in rows[: f.limit]]
        next_cursor = None
        if len(rows) > f.limit:
            last = rows[f.limit - 1]
            next_cursor = encode_cursor(f.sort, [getattr(last, c.name) for c, _ in keys])
        return AlertPage(items=items, next_cursor=next_cursor)

    def get_alert(self, alert_id: str, now: datetime | None = None) -> AlertDetail | None:
        if not findable(alert_id):
            return None
        now = now or datetime.now(timezone.utc)
        with self._read() as conn:
            row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
            if row is None:
                return None
            note_rows = conn.execute(select(notes).where(notes.c.alert_id == alert_id).order_by(notes.c.id))
            history = conn.execute(select(audit_log).where(audit_log.c.subject == f"alert:{alert_id}")
                                   .order_by(audit_log.c.seq))
            alert = alert_from_row(row)
            return AlertDetail(alert=alert, notes=[note_from_row(n) for n in note_rows],
                               history=[event_from_row(e) for e in history], overdue=alert.overdue(now))

    def claim(self, alert_id: str, user: User | str, now: datetime) -> Alert:
        with self._write() as conn:
            return self._claim(conn, AuditChain(conn), alert_id, user, now)

    def release(self, alert_id: str, user: User | str, now: datetime) -> Alert:
        with self._write() as conn:
            chain = AuditChain(conn)
            actor = self._actor(conn, user)
            before = locked_alert(conn, alert_id)
            after = reviews.apply_release(before, actor, now)
            save_review(conn, after)
            chain.append(now, actor.name, "alert.released", f"alert:{alert_id}",
                         {"previous_assignee": before.assignee, "status": after.status})
            return after

    def decide(self, alert_id: str, decision: Decision, user: User | str, now: datetime) -> Alert:
        with self._write() as conn:
            return self._decide(conn, AuditChain(conn), alert_id, decision, user, now)

    def add_note(self, alert_id: str, user: User | str, text_: str, now: datetime) -> Note:
        body = (text_ or "").strip()
        if not body:
            raise reviews.DecisionError("a note must not be empty")
        if text_problem(body):
            raise reviews.DecisionError(f"a note {text_problem(body)}")
        if len(body) > reviews.MAX_NOTE_CHARS:
            raise reviews.DecisionError(f"a note must be at most {reviews.MAX_NOTE_CHARS} characters")
        with self._write() as conn:
            chain = AuditChain(conn)
            actor = self._actor(conn, user)
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
                outcomes.append(BulkOutcome(alert_id, False, None, str(exc)))
        return outcomes

    def _bulk_decide(self, alert_id: str, decision: Decision, user: User | str, now: datetime) -> Alert:
        with self._write() as conn:
            chain = AuditChain(conn)
            alert = locked_alert(conn, alert_id)
            if alert.status == "open":
                self._claim(conn, chain, alert_id, user, now)
            return self._decide(conn, chain, alert_id, decision, user, now)

    def _claim(self, conn: Connection, chain: AuditChain, alert_id: str, user: User | str, now: datetime) -> Alert:
        actor = self._actor(conn, user)
        before = locked_alert(conn, alert_id)
        after = reviews.apply_claim(before, actor, now)
        if after is not before:
            save_review(conn, after)
            chain.append(now, actor.name, "alert.claimed", f"alert:{alert_id}",
                         {"previous_assignee": before.assignee, "status": after.status})
        return after

    def _decide(self, conn: Connection, chain: AuditChain, alert_id: str, decision: Decision,
                user: User | str, now: datetime) -> Alert:
        actor = self._actor(conn, user)
        before = locked_alert(conn, alert_id)
        after = reviews.apply_decision(before, decision, actor, now)
        save_review(conn, after)
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
            chain = AuditChain(conn)
            self._require_user_manager(conn, actor)
            if insert_ignore(conn, users, {"name": name, "role": role, "password_hash": password_hash,
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
        if not values:
            raise UserError("nothing to change: give a role, an active flag or a password")
        with self._write() as conn:
            chain = AuditChain(conn)
            self._require_user_manager(conn, actor)
            if conn.execute(update(users).where(users.c.name == name).values(values)).rowcount != 1:
                raise NotFound(f"no user {name!r}")
            chain.append(now, actor, "user.changed", f"user:{name}",
                         {"role": role, "active": active, "password_changed": password is not None})
            row = conn.execute(select(users).where(users.c.name == name)).one()
            return User(row.name, row.role, row.active)

    def authenticate(self, name: str, password: str, now: datetime | None = None) -> User | None:
        """The user when the password matches and the user is active; every attempt is audited."""
        now = now or datetime.now(timezone.utc)
        row = self._user_row(name)
        ok = check_password(password, row.password_hash if row else self._dummy_hash) and row is not None
        ok = ok and bool(row.active)
        # A name no user can have (too long for the subject column, a NUL) is audited as such.
        subject = f"user:{name}" if row or (findable(name) and len(name) <= 64) else "user:(invalid name)"
        self.record_event(name if row else SYSTEM_ACTOR, "user.login", subject, {"ok": ok}, now)
        return User(row.name, row.role, row.active) if ok else None

    def get_user(self, name: str) -> User | None:
        row = self._user_row(name)
        return User(row.name, row.role, row.active) if row else None

    def _user_row(self, name: str):
        if not findable(name):
            return None
        with self._read() as conn:
            return conn.execute(select(users).where(users.c.name == name)).first()

    def list_users(self) -> list[User]:
        with self._read() as conn:
            return [User(r.name, r.role, r.active) for r in conn.execute(select(users).order_by(users.c.name))]

    def _require_user_manager(self, conn: Connection, actor: str) -> None:
        # "system" is whoever runs `patrol users add` on the server itself; anyone else must be an admin.
        if actor != SYSTEM_ACTOR and not self._actor(conn, actor).can_manage_users:
            raise reviews.PermissionDenied(f"{actor} cannot manage users: that needs an active admin")

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
            return AuditChain(conn).append(now, actor, action, subject, payload)

    def audit_events(self, after_seq: int = 0, limit: int = 100, actor: str | None = None,
                     action: str | None = None, subject: str | None = None) -> list[AuditEvent]:
        if not 1 <= limit <= 10_000:
            raise InvalidFilter(f"limit must be between 1 and 10000, got {limit}")
        if after_seq > MAX_SEQ:
            raise InvalidFilter(f"after_seq must be at most {MAX_SEQ}, got {after_seq}")
        stmt = select(audit_log).where(audit_log.c.seq > after_seq)
        for column, value in ((audit_log.c.actor, actor), (audit_log.c.action, action),
                              (audit_log.c.subject, subject)):
            if value is not None:
                if text_problem(value):
                    raise InvalidFilter(f"{column.name} {text_problem(value)}")
                stmt = stmt.where(column == value)
        with self._read() as conn:
            return [event_from_row(r) for r in conn.execute(stmt.order_by(audit_log.c.seq).limit(limit))]

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
                    events = [event_from_row(r) for r in rows]
                except ValueError:
                    bad = next(r.seq for r in rows if not payload_parses(r.payload))
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
        if items < 0:
            raise ValueError(f"items of a pass cannot be negative, got {items}")
        errors = {str(k): int(v) for k, v in (errors or {}).items()}
        with self._write() as conn:
            # Make sure the row exists, then lock it: two crawlers finishing passes at once both count.
            insert_ignore(conn, source_health, {"source": source, "items_last_pass": 0, "errors_last_pass": {},
                                                 "consecutive_empty": 0, "passes": 0})
            row = conn.execute(select(source_health).where(source_health.c.source == source)
                               .with_for_update()).one()
            values = {"last_pass_at": now, "items_last_pass": items, "errors_last_pass": errors,
                      "consecutive_empty": row.consecutive_empty + 1 if items == 0 else 0,
                      "passes": row.passes + 1, "last_success_at": now if items > 0 else row.last_success_at}
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
            if not insert_ignore(conn, crawl_state, {"source": source, "key": key, "value": value, "updated_at": now}):
                conn.execute(update(crawl_state).where(crawl_state.c.source == source, crawl_state.c.key == key)
                             .values(value=value, updated_at=now))

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
