"""The workflow database: posts and versions, alerts, notes, users, the audit chain, crawl state.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Migrations are frozen in time: they spell out their columns instead of importing today's tables.
TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
ACTIVE_OPS = "post_id IS NULL AND status IN ('open', 'claimed', 'escalated')"


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("external_id", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_fetched", TS, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("version_hash", sa.String(64), nullable=False),
        sa.Column("deleted_upstream", sa.Boolean, nullable=False),
        sa.Column("analysis", JSON, nullable=True),
        sa.Column("primary", sa.String(40), nullable=False),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("indexed", sa.Boolean, nullable=False),
    )
    op.create_index("ix_posts_indexed_first_seen", "posts", ["indexed", "first_seen"])
    op.create_index("ix_posts_source", "posts", ["source"])

    op.create_table(
        "post_versions",
        sa.Column("post_id", sa.String(64), sa.ForeignKey("posts.id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("version_hash", sa.String(64), nullable=False),
        sa.Column("fetched_at", TS, nullable=False),
    )

    op.create_table(
        "alerts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("post_id", sa.String(64), sa.ForeignKey("posts.id"), nullable=True, unique=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("severity_rank", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("fetched_at", TS, nullable=True),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("analysis", JSON, nullable=False),
        sa.Column("post_version", sa.Integer, nullable=False),
        sa.Column("assignee", sa.String(64), nullable=True),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("escalated", sa.Boolean, nullable=False),
        sa.Column("decision", sa.String(20), nullable=True),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("decision_note", sa.Text, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
    )
    op.create_index("ix_alerts_queue", "alerts", ["status", "severity_rank", "due_at"])
    op.create_index("ix_alerts_opened_at", "alerts", ["opened_at"])
    op.create_index("ix_alerts_category", "alerts", ["category"])
    op.create_index("ix_alerts_source", "alerts", ["source"])
    op.create_index("ix_alerts_assignee", "alerts", ["assignee"])
    op.create_index("uq_alerts_active_ops_source", "alerts", ["source"], unique=True,
                    sqlite_where=sa.text(ACTIVE_OPS), postgresql_where=sa.text(ACTIVE_OPS))

    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(64), sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_notes_alert", "notes", ["alert_id", "id"])

    op.create_table(
        "users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )

    op.create_table(
        "audit",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_audit_subject", "audit", ["subject", "seq"])
    op.create_index("ix_audit_actor", "audit", ["actor", "seq"])
    op.create_index("ix_audit_action", "audit", ["action", "seq"])

    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])

    op.create_table(
        "source_health",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("last_pass_at", TS, nullable=True),
        sa.Column("last_success_at", TS, nullable=True),
        sa.Column("items_last_pass", sa.Integer, nullable=False),
        sa.Column("errors_last_pass", JSON, nullable=False),
        sa.Column("consecutive_empty", sa.Integer, nullable=False),
        sa.Column("passes", sa.Integer, nullable=False),
    )

    op.create_table(
        "crawl_state",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("value", JSON, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )

    _forbid_audit_rewrites()


def _forbid_audit_rewrites() -> None:
    # The code has no update/delete path for the audit table; the database refuses one too, so a
    # stray UPDATE fails loudly instead of silently breaking the chain.
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_no_{verb.lower()} BEFORE {verb} ON audit "
                       f"BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END")
    else:
        op.execute("CREATE FUNCTION patrol_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   "BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$")
        op.execute("CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
                   "FOR EACH ROW EXECUTE FUNCTION patrol_audit_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_append_only ON audit")
        op.execute("DROP FUNCTION IF EXISTS patrol_audit_append_only()")
    for table in ("crawl_state", "source_health", "audit_head", "audit", "users", "notes", "alerts",
                  "post_versions", "posts"):
        op.drop_table(table)
