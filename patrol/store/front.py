"""`Store`, the one front every caller uses: posts and their versions, alerts and their review,
notes, users, the audit trail, source health and crawl state (docs/CONTRACTS.md lists it all).

Each noun has its repository module (posts, alerts, users, audit, sources, counts) running over
one `Database`; this class only hands each call to its repository, and composes the one
transaction that spans two nouns (`save_batch`: posts, then the alerts about them).
"""
from __future__ import annotations

from contextlib import nullcontext
from datetime import date, datetime
from functools import cached_property
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy.engine import Engine

from patrol.alerts import Alert
from patrol.audit import AuditEvent, AuditVerification
from patrol.audit_key import AuditKey
from patrol.checkpoints import Checkpoint
from patrol.deadlines import Breach
from patrol.posts import RawPost, post_id_for
from patrol.reviews import Decision
from patrol.store.alert_batch import open_batch
from patrol.store.alerts import AlertRepository
from patrol.store.audit import AuditRepository
from patrol.store.chain import AuditChain
from patrol.store.console_state import ConsoleStateRepository
from patrol.store.counts import counts
from patrol.store.database import SYSTEM_ACTOR, Database
from patrol.store.labels import LabelRepository, PostLabel, SampledPost, TrainingLabels
from patrol.login_limits import LoginPolicy
from patrol.sessions import Account, Session
from patrol.store.posts import PostRepository
from patrol.store.records import (
    AlertDetail, AlertFilter, AlertPage, BulkOutcome, LabelExample, Note, PostRecord, PostVersion, QueueCounts,
    SaveReport, SourceHealth, ThreadContext,
)
from patrol.rule_overrides import RuleOverride
from patrol.store.rule_overrides import read_overrides, set_override
from patrol.store.retention import RetentionRepository
from patrol.store.sessions import SessionRepository
from patrol.store.pages import KeptPage, PageRepository
from patrol.store.reports import ReportRepository
from patrol.store.sources import SourceRepository
from patrol.store.users import UserRepository
from patrol.users import DEFAULT_ROUNDS, User


class Store:
    """The workflow database. `url`: a SQLAlchemy URL (sqlite:///path, postgresql://...).

    Construction runs the Alembic migrations to head. `password_rounds` is bcrypt's cost; only
    tests should lower it. `audit_key` (patrol.audit_key.AuditKey): the key of the audit chain's
    HMACs; with `key_chain` an unkeyed chain is keyed at open (docs/AUDIT.md). Without a key the
    chain stays plain SHA-256 (tests), and a keyed chain refuses this store's appends.
    """

    def __init__(self, url: str, password_rounds: int = DEFAULT_ROUNDS, echo: bool = False,
                 audit_key: AuditKey | None = None, key_chain: bool = True,
                 login_policy: LoginPolicy | None = None):
        self.url = url
        self.password_rounds = password_rounds
        self._db = Database(url, echo, audit_key)
        self.dialect = self._db.dialect
        self._db.migrate()
        self._posts = PostRepository(self._db)
        self._alerts = AlertRepository(self._db)
        self._audit = AuditRepository(self._db)
        self._users = UserRepository(self._db, self._audit, password_rounds, login_policy)
        self._sessions = SessionRepository(self._db)
        self._sources = SourceRepository(self._db)
        self._labels = LabelRepository(self._db)
        self._pages = PageRepository(self._db)
        self._reports = ReportRepository(self._db)
        self._retention = RetentionRepository(self._db)
        self._console = ConsoleStateRepository(self._db)
        if audit_key is not None:
            # Keyed at open, or (key_chain=False) at least checked: a wrong key stops here, not at an append.
            self._audit.key_chain() if key_chain else self._audit.check_key()

    @cached_property
    def events(self):
        """The public-opinion events' repository (patrol/events/store.py), on this database."""
        from patrol.events.store import EventStore

        return EventStore(self._db)

    @cached_property
    def trends(self):
        """Hourly counts, bursts and watch-lists (patrol/events/trend_store.py), on this database."""
        from patrol.events.trend_store import TrendStore

        return TrendStore(self._db)

    @property
    def engine(self) -> Engine:
        return self._db.engine

    def close(self) -> None:
        self._db.close()

    # -- posts (patrol/store/posts.py) -------------------------------------------------------

    def classify_changes(self, raws: Sequence[RawPost]) -> list[str]:
        """Per raw post: "new" | "edited" | "unchanged" | "deleted" against what is stored."""
        return self._posts.classify_changes(raws)

    def save_batch(self, posts_in: Sequence[PostRecord], alerts_in: Sequence[Alert], now: datetime,
                   one_by_one: bool = False) -> SaveReport:
        """Upsert posts and open alerts in ONE transaction (see docs/CONTRACTS.md). The alerts are
        opened with a few statements for the whole batch (patrol/store/alert_batch.py);
        `one_by_one` opens them one at a time instead, the reference that path is tested and
        benchmarked against (the same rows and audit events)."""
        for p in posts_in:
            if p.id != post_id_for(p.source, p.external_id):
                raise ValueError(f"post id {p.id} is not post_id_for({p.source!r}, {p.external_id!r})")
        report = SaveReport()
        with self._db.write() as conn:
            # Lock order: chain head, then posts by id. Every writer follows it, so none deadlock.
            with (AuditChain.batch(conn, self._db.audit_key) if alerts_in and not one_by_one
                  else nullcontext(AuditChain(conn, self._db.audit_key) if alerts_in else None)) as chain:
                versions = self._posts.upsert(conn, posts_in, now, report)
                self._pages.keep(conn, posts_in)
                threads = {p.id: p.thread_id for p in posts_in}
                if alerts_in and not one_by_one:
                    open_batch(self._alerts, conn, chain, alerts_in, versions, now, report, threads)
                for a in alerts_in if one_by_one else ():
                    self._alerts.open_in(conn, chain, a, versions, now, report, threads.get(a.post_id, ""))
        return report

    def mark_indexed(self, posts_done: Iterable[str | PostRecord | tuple[str, int]]) -> None:
        """Record that posts are in the search index. Pass the PostRecords that were indexed (not
        just ids) and a post edited meanwhile by another process stays unindexed, as it should."""
        self._posts.mark_indexed(posts_done)

    def has_indexed_posts(self) -> bool:
        """Whether any post is marked as in the search index (an empty index then means a lost one)."""
        return self._posts.has_indexed_posts()

    def unindexed_post_ids(self, limit: int = 1000) -> list[str]:
        return self._posts.unindexed_post_ids(limit)

    def get_post(self, post_id: str) -> PostRecord | None:
        got = self._posts.get_posts([post_id])
        return got[0] if got else None

    def get_posts(self, post_ids: Sequence[str]) -> list[PostRecord]:
        """The posts that exist, in the order asked."""
        return self._posts.get_posts(post_ids)

    def iter_posts(self, page_size: int = 500, fetched_since: datetime | None = None) -> Iterator[PostRecord]:
        """Every stored post in id order, read one short page at a time (keyset paging);
        only those stored or fetched since `fetched_since` when given."""
        return self._posts.iter_posts(page_size, fetched_since)

    def post_versions(self, post_id: str) -> list[PostVersion]:
        return self._posts.post_versions(post_id)

    def thread_context(self, post_id: str, limit: int = 20) -> ThreadContext:
        """The parent, replies and nearby posts of the post's thread, as the crawl collected them."""
        return self._posts.thread_context(post_id, limit)

    # -- kept pages (patrol/store/pages.py) --------------------------------------------------

    def get_page(self, sha256: str) -> KeptPage | None:
        """The fetched page kept under this SHA-256 (decompressed), or None (never kept, or purged)."""
        return self._pages.get(sha256)

    def purge_pages_before(self, cutoff: datetime) -> int:
        """Retention: drop pages fetched before `cutoff` that no active alert needs."""
        return self._pages.purge_before(cutoff)

    # -- alerts and their review (patrol/store/alerts.py) ------------------------------------

    def group_members(self, lead_id: str) -> list[Alert]:
        """The alerts attached to this lead alert, oldest first (patrol/store/groups.py)."""
        return self._alerts.group_members(lead_id)

    def alert_statuses(self, post_ids: Sequence[str]) -> dict[str, str]:
        """post id -> the status of its alert, for the posts among `post_ids` that have one."""
        return self._alerts.alert_statuses(post_ids)

    def list_alerts(self, f: AlertFilter = AlertFilter()) -> AlertPage:
        return self._alerts.list_alerts(f)

    def get_alert(self, alert_id: str, now: datetime | None = None) -> AlertDetail | None:
        return self._alerts.get_alert(alert_id, now)

    def claim(self, alert_id: str, user: User | str, now: datetime) -> Alert:
        return self._alerts.claim(alert_id, user, now)

    def release(self, alert_id: str, user: User | str, now: datetime) -> Alert:
        return self._alerts.release(alert_id, user, now)

    def decide(self, alert_id: str, decision: Decision, user: User | str, now: datetime) -> Alert:
        return self._alerts.decide(alert_id, decision, user, now)

    def add_note(self, alert_id: str, user: User | str, text_: str, now: datetime) -> Note:
        return self._alerts.add_note(alert_id, user, text_, now)

    def bulk(self, alert_ids: Sequence[str], action: str | Decision, user: User | str,
             now: datetime) -> list[BulkOutcome]:
        """Apply `action` ("claim", "release" or a Decision) to each alert, each in its own
        transaction, so one refusal does not undo the others. A Decision on an open alert claims
        it for the user first (both steps audited)."""
        return self._alerts.bulk(alert_ids, action, user, now)

    def assign(self, alert_id: str, assignee: str, user: User | str, now: datetime) -> Alert:
        """A supervisor hands the alert to `assignee` (audited as alert.assigned)."""
        return self._alerts.assign(alert_id, assignee, user, now)

    def queue_counts(self, f: AlertFilter, now: datetime) -> QueueCounts:
        """Counts by status and severity for the queue's filter, and the overdue active ones."""
        return self._alerts.queue_counts(f, now)

    def alert_sources(self) -> list[str]:
        return self._alerts.alert_sources()

    def open_source_health_alert(self, source: str, reason: str, now: datetime) -> Alert | None:
        """Open an ops alert for a silent or failing source; None when one is already active."""
        return self._alerts.open_source_health_alert(source, reason, now)

    def export_labels(self) -> list[LabelExample]:
        """Every decided post alert as a training label: (text, category, decision, outcome)."""
        return self._alerts.export_labels()

    # -- officers' labels and the recall sample (patrol/store/labels.py) ----------------------

    def label_post(self, post_id: str, category: str, user: User | str, now: datetime,
                   origin: str = "search") -> PostLabel:
        """Label a post outside a decision: origin "recall_sample" (抽检) or "search" (cold start)."""
        return self._labels.label_post(post_id, category, user, now, origin)

    def post_labels(self, post_id: str) -> list[PostLabel]:
        return self._labels.post_labels(post_id)

    def draw_recall_sample(self, day: date, size: int, now: datetime, seed: int | None = None) -> list[SampledPost]:
        return self._labels.draw_recall_sample(day, size, now, seed)

    def recall_queue(self, day: date | None = None, limit: int = 100, pending_only: bool = True) -> list[SampledPost]:
        return self._labels.recall_queue(day, limit, pending_only)

    def training_labels(self, since: datetime | None = None) -> TrainingLabels:
        """Every labelled post once (its latest label) as patrol.labels.export_row rows."""
        return self._labels.training_labels(since)

    def label_figures(self, since: datetime | None = None) -> dict:
        """Miss rate per category (recall sample) and precision per category (decisions), 95% Wilson."""
        return self._labels.label_figures(since)

    # -- users (patrol/store/users.py) -------------------------------------------------------

    def add_user(self, name: str, role: str, password: str, actor: str = SYSTEM_ACTOR,
                 now: datetime | None = None) -> User:
        return self._users.add_user(name, role, password, actor, now)

    def set_user(self, name: str, actor: str, now: datetime, *, role: str | None = None,
                 active: bool | None = None, password: str | None = None) -> User:
        """Change a user's role, active flag or password (audited as user.changed; never the password)."""
        return self._users.set_user(name, actor, now, role=role, active=active, password=password)

    def authenticate(self, name: str, password: str, now: datetime | None = None,
                     address: str | None = None) -> User | None:
        """The user when the password matches and the user is active; every attempt is audited.
        Raises LoginRefused (patrol.login_limits) while failures hold the account or address back."""
        return self._users.authenticate(name, password, now, address)

    def unlock_user(self, name: str, actor: str, now: datetime) -> bool:
        """Lift a login lockout (audited as user.unlocked); whether one was in force."""
        return self._users.unlock(name, actor, now)

    def accounts(self, now: datetime) -> list[Account]:
        """Every user with lockout, known-default-password and live-session state."""
        return self._users.accounts(now)

    def active_default_password_users(self) -> list[str]:
        """Active users whose password is a known default (the demo user's `demo`)."""
        return self._users.active_default_password_users()

    # -- sessions (patrol/store/sessions.py) -------------------------------------------------

    def open_session(self, session_id: str, user_name: str, kind: str, expires_at: datetime,
                     address: str, now: datetime) -> Session:
        return self._sessions.open_session(session_id, user_name, kind, expires_at, address, now)

    def session_user(self, session_id: str, now: datetime) -> User | None:
        """The user of a live session (not ended, not expired, user active), else None."""
        return self._sessions.session_user(session_id, now)

    def list_sessions(self, user_name: str | None, now: datetime) -> list[Session]:
        return self._sessions.list_sessions(user_name, now)

    def end_session(self, session_id: str, actor: str, reason: str, now: datetime,
                    of_user: str | None = None) -> Session:
        """End one live session (audited as session.ended); NotFound when there is none."""
        return self._sessions.end_session(session_id, actor, reason, now, of_user=of_user)

    def end_sessions(self, user_name: str, actor: str, now: datetime) -> int:
        """An admin ends every live session of a user (audited); how many ended."""
        return self._users.end_all_sessions(user_name, actor, now)

    def get_user(self, name: str) -> User | None:
        return self._users.get_user(name)

    def list_users(self) -> list[User]:
        return self._users.list_users()

    # -- audit (patrol/store/audit.py) -------------------------------------------------------

    def record_event(self, actor: str, action: str, subject: str, payload: dict | None,
                     now: datetime) -> AuditEvent:
        """Append one event on its own, e.g. search.performed (who searched what) or watchlist.changed."""
        return self._audit.record_event(actor, action, subject, payload, now)

    def audit_events(self, after_seq: int = 0, limit: int = 100, actor: str | None = None,
                     action: str | None = None, subject: str | None = None) -> list[AuditEvent]:
        return self._audit.audit_events(after_seq, limit, actor, action, subject)

    def verify_audit(self, chunk: int = 2000, checkpoint: Checkpoint | None = None) -> AuditVerification:
        """Recompute the whole chain (HMACs under the audit key); also catches events cut off the end
        (the head row remembers) and, given the last checkpoint, truncation, emptying and rewrites
        that also fixed the head row."""
        return self._audit.verify_audit(chunk, checkpoint)

    def key_audit_chain(self, now: datetime | None = None) -> AuditEvent | None:
        """Key an unkeyed chain with this store's audit key; the `audit.keyed` event, if written."""
        return self._audit.key_chain(now)

    def audit_head(self) -> tuple[int, str, int | None]:
        """(seq, hash, keyed_from): the chain head, as a checkpoint records it."""
        return self._audit.head()

    @property
    def audit_key(self) -> AuditKey | None:
        return self._db.audit_key

    def store_id(self) -> str:
        """This database's identity (made once by migration 0004); the search index is stamped with it."""
        return self._audit.store_id()

    # -- source health and crawl state (patrol/store/sources.py) -----------------------------

    def record_source_pass(self, source: str, now: datetime, items: int,
                           errors: dict[str, int] | None = None, *, failed: bool = False) -> SourceHealth:
        """Record one crawl pass of a source: its counters, each updated atomically (see
        SourceRepository.record_source_pass)."""
        return self._sources.record_source_pass(source, now, items, errors, failed=failed)

    def source_health(self) -> list[SourceHealth]:
        return self._sources.source_health()

    def get_crawl_state(self, source: str, key: str) -> Any:
        return self._sources.get_crawl_state(source, key)

    def set_crawl_state(self, source: str, key: str, value: Any, now: datetime) -> None:
        self._sources.set_crawl_state(source, key, value, now)

    # -- retention (patrol/store/retention.py; the policy is patrol/retention.py) ------------

    def purgeable_post_ids(self, cutoff: datetime, limit: int = 500) -> list[str]:
        """Posts first seen before `cutoff` that raised no alert, oldest first."""
        return self._retention.purgeable_post_ids(cutoff, limit)

    def purge_posts(self, post_ids: list[str], cutoff: datetime) -> dict[str, int]:
        """Delete those of `post_ids` that still qualify (with their versions); {"posts", "versions"}."""
        return self._retention.purge_posts(post_ids, cutoff)

    # -- the console's working state (patrol/store/console_state.py) -------------------------

    def notify_passed_deadlines(self, now: datetime, categories: Sequence[str],
                                on_shift_since: datetime) -> list[Breach]:
        """Tell the supervisors on shift about life-risk alerts gone overdue (once each, audited)."""
        return self._console.notify_passed_deadlines(now, categories, on_shift_since)

    def notifications_for(self, user: str, after_id: int = 0, limit: int = 50) -> list[dict]:
        return self._console.notifications_for(user, after_id, limit)

    def touch_presence(self, user: str, now: datetime) -> None:
        self._console.touch_presence(user, now)

    def saved_views(self, user: str) -> list[tuple[str, str]]:
        return self._console.saved_views(user)

    def save_view(self, user: str, name: str, query: str, now: datetime) -> None:
        self._console.save_view(user, name, query, now)

    def delete_view(self, user: str, name: str) -> bool:
        return self._console.delete_view(user, name)

    # -- administrators' rule changes (patrol/rule_overrides.py) ------------------------------

    def rule_overrides(self) -> dict[str, RuleOverride]:
        return read_overrides(self._db)

    def set_rule_override(self, rule: str, before: tuple[bool, float], enabled: bool, min_score: float,
                          actor: str, now: datetime) -> RuleOverride:
        """One rule's enabled flag and threshold, by an active admin; audited rule.changed."""
        return set_override(self._db, rule, before, enabled, min_score, actor, now)

    def latest_audit_seq(self) -> int:
        """The audit chain's last seq: the live stream's cheap "did anything change" probe."""
        return self._audit.latest_seq()

    # -- summary (patrol/store/counts.py) ----------------------------------------------------

    def counts(self, now: datetime | None = None) -> dict[str, Any]:
        return counts(self._db, now)

    def dashboard(self, now: datetime, days: int = 14) -> dict[str, Any]:
        """Alerts per category per day, queue age, decisions per officer per day, source health."""
        return self._reports.dashboard(now, days)

    def source_gaps(self, now: datetime) -> list[dict[str, Any]]:
        """Each source's health with its collection gap (time since its last successful pass)."""
        return self._reports.source_gaps(now)

    def handover(self, start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
        """The shift handover (交接班) for [start, end): open, claimed, overdue, escalations pending,
        decisions per officer, source outages."""
        return self._reports.handover(start, end, now)
