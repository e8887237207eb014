"""The workflow database's tables, as the code uses them. Migrations (patrol/migrations) create them;
tests/patrol/test_store.py checks that the two agree."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, Text,
    TypeDecorator, text,
)
from sqlalchemy.dialects.postgresql import JSONB


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
    # The thread as the source shows it (0007): the thread id and the parent's post id.
    Column("thread_id", Text, nullable=True),
    Column("parent_id", String(64), nullable=True),
    Index("ix_posts_indexed_first_seen", "indexed", "first_seen"),
    Index("ix_posts_source", "source"),
    Index("ix_posts_first_seen", "first_seen"),  # retention picks old posts by it
    Index("ix_posts_thread", "source", "thread_id"),
    Index("ix_posts_parent", "parent_id"),
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
    # Grouping (0007, patrol/grouping.py): a member's lead alert; the lead's member count.
    Column("group_id", String(64), nullable=True),
    Column("group_size", Integer, nullable=False, server_default=text("1")),
    # Partial: only members have a group_id. A full index would be the planner's pick for
    # "group_id IS NULL" (true of nearly every row) and make every report read every row.
    Index("ix_alerts_group", "group_id", sqlite_where=text("group_id IS NOT NULL"),
          postgresql_where=text("group_id IS NOT NULL")),
    # Covering indexes of the dashboard and handover counts (patrol/store/reports.py).
    Index("ix_alerts_opened_category", "opened_at", "category", "group_id"),
    # The queue's keyset reads too (one status, leads only, the sort's keys then the id: 0011).
    Index("ix_alerts_status_opened", "status", "group_id", "opened_at", "id"),
    Index("ix_alerts_status_due", "status", "group_id", "severity_rank", "due_at", "id"),
    Index("ix_alerts_status_group_due", "status", "group_id", "due_at", "id"),
    Index("ix_alerts_decided", "decided_at", "decided_by", "decision"),
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
    # The password is one anyone would try first (patrol.users.known_default_password): decided
    # when it is set, since the hash cannot tell. `patrol serve` stays on loopback while one is active.
    Column("default_password", Boolean, nullable=False, server_default=text("false")),
)

# Login sessions: one row per bearer token or console cookie issued. The signed credential carries
# a random nonce; the row is keyed by its SHA-256, so a credential works only while its row says
# active: logout, a password or role change, deactivation or an admin ends it for good.
sessions = Table(
    "sessions", metadata,
    Column("id", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("kind", String(10), nullable=False),          # "token" | "console"
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("address", String(64), nullable=False),       # the client address at login, for the admin's list
    Column("ended_at", UTCDateTime, nullable=True),
    Column("ended_reason", String(40), nullable=True),
    Index("ix_sessions_user", "user_name", "ended_at"),
)

# Failed-login counters (patrol.login_limits): one row per account name ("user:<name>", kept for
# names no user has too, so a lockout tells nothing about which names exist) and per client
# address ("addr:<ip>").
login_limits = Table(
    "login_limits", metadata,
    Column("key", String(100), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime, nullable=True),
    Column("blocked_until", UTCDateTime, nullable=True),
    Column("locked", Boolean, nullable=False),             # until an admin lifts it
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
# key_id: the audit key's public id (NULL: not keyed); keyed_from: the first HMAC event.
audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("key_id", String(16), nullable=True),
    Column("keyed_from", Integer, nullable=True),
)

# Facts about the database itself; `store_id` (made once by migration 0004) stamps the index.
store_meta = Table(
    "store_meta", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
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
    # Failed passes in a row (a failed pass may still yield a few items, so it is not "empty").
    Column("consecutive_failed", Integer, nullable=False, server_default=text("0")),
)

# Per source and key: what a crawl keeps between passes (key "incremental": the spider's state after
# its last ingested pass), shared by every crawler process on the same database.
crawl_state = Table(
    "crawl_state", metadata,
    Column("source", String(200), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("value", JSONType, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)


from patrol.store import label_schema  # noqa: E402,F401  (issue 15's tables, on the same metadata)
# What groups alerts (0007): each lead alert's keys (near-duplicate bands, contact ids, thread).
# A new alert whose key an active lead holds attaches to that lead (patrol/grouping.py).
alert_group_keys = Table(
    "alert_group_keys", metadata,
    Column("key", String(200), primary_key=True),
    Column("alert_id", String(64), ForeignKey("alerts.id"), primary_key=True),
    # The MinHash signature that put the key here, for the near-duplicate check (bands only find candidates).
    Column("signature", String(200), nullable=False),
    Index("ix_alert_group_keys_alert", "alert_id"),
)

# The fetched pages behind posts' content_sha256 (0007), zlib-compressed, kept once per hash
# and purged after the retention setting (patrol/evidence.py purge_pages).
fetched_pages = Table(
    "fetched_pages", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("source", String(200), nullable=False),
    Column("url", Text, nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("size", Integer, nullable=False),
    Column("body_z", LargeBinary, nullable=False),
    Index("ix_fetched_pages_fetched_at", "fetched_at"),
)
# The event views (public-opinion events, bursts, watch-lists) keep their tables beside their code.
from patrol.events import schema as _event_tables  # noqa: E402,F401

# --- the console's working state (revision 0006) --------------------------------------------

# Every label of an alert, one row each: the queue's 类别 filter finds an alert by any of its
# labels (赌博 finds the 菠.菜 ad led as 诈骗), through an index instead of a scan of JSON.
alert_labels = Table(
    "alert_labels", metadata,
    Column("alert_id", String(64), ForeignKey("alerts.id"), primary_key=True),
    Column("label", String(40), primary_key=True),
    Index("ix_alert_labels_label", "label", "alert_id"),
)

# The queue's sort by deadline within a status, members included (the deadline watch,
# patrol/store/console_state.py).
alert_queue_indexes = (
    Index("ix_alerts_status_due_id", alerts.c.status, alerts.c.due_at, alerts.c.id),
)

# An administrator's change to one alert rule of the rules file (patrol/rule_overrides.py, 0011).
rule_overrides = Table(
    "rule_overrides", metadata,
    Column("rule", String(100), primary_key=True),  # AlertRule.name: category@source
    Column("enabled", Boolean, nullable=False),
    Column("min_score", Float, nullable=False),
    Column("changed_by", String(64), nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)

# A life-risk alert whose deadline passed, noticed once (the primary key) by whichever process
# checks first; `notified` lists the supervisors told.
deadline_breaches = Table(
    "deadline_breaches", metadata,
    Column("alert_id", String(64), ForeignKey("alerts.id"), primary_key=True),
    Column("category", String(40), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("noticed_at", UTCDateTime, nullable=False),
    Column("notified", JSONType, nullable=False),
)

# Messages to one console user (a passed deadline for the supervisors on shift), read by the
# live-update stream.
notifications = Table(
    "notifications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user", String(64), nullable=False),
    Column("alert_id", String(64), ForeignKey("alerts.id"), nullable=True),
    Column("kind", String(40), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime, nullable=True),
    Index("ix_notifications_user", "user", "id"),
    Index("uq_notifications_user_alert_kind", "user", "alert_id", "kind", unique=True),
)

# When each console user was last seen (page or live stream): "on shift" means seen lately.
console_presence = Table(
    "console_presence", metadata,
    Column("user", String(64), primary_key=True),
    Column("last_seen_at", UTCDateTime, nullable=False),
)

# A user's named queue filters (the query string of the queue page).
saved_views = Table(
    "saved_views", metadata,
    Column("user", String(64), primary_key=True),
    Column("name", String(40), primary_key=True),
    Column("query", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
