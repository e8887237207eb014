"""Threads, alert groups and kept pages (issue 11b).

posts.thread_id / parent_id: where a post sits in its thread, as the source shows it.
alerts.group_id / group_size and alert_group_keys: near-duplicate, same-contact and same-thread
alerts attach to one lead alert. fetched_pages: the fetched bytes behind content_sha256,
compressed, so the page hash (and the post's own hash) can be re-checked; purged by retention.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("thread_id", sa.Text, nullable=True))
        batch.add_column(sa.Column("parent_id", sa.String(64), nullable=True))
        batch.create_index("ix_posts_thread", ["source", "thread_id"])
        batch.create_index("ix_posts_parent", ["parent_id"])
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("group_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("group_size", sa.Integer, nullable=False, server_default=sa.text("1")))
        # Partial (members only): see patrol/store/schema.py.
        batch.create_index("ix_alerts_group", ["group_id"], sqlite_where=sa.text("group_id IS NOT NULL"),
                           postgresql_where=sa.text("group_id IS NOT NULL"))
        # Covering indexes of the dashboard and handover counts (patrol/store/reports.py).
        batch.create_index("ix_alerts_opened_category", ["opened_at", "category", "group_id"])
        batch.create_index("ix_alerts_status_opened", ["status", "group_id", "opened_at"])
        batch.create_index("ix_alerts_status_due", ["status", "group_id", "severity_rank", "due_at"])
        batch.create_index("ix_alerts_decided", ["decided_at", "decided_by", "decision"])
    op.create_table(
        "alert_group_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("alert_id", sa.String(64), sa.ForeignKey("alerts.id"), primary_key=True),
        sa.Column("signature", sa.String(200), nullable=False),
    )
    op.create_index("ix_alert_group_keys_alert", "alert_group_keys", ["alert_id"])
    op.create_table(
        "fetched_pages",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("fetched_at", TS, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("body_z", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_fetched_pages_fetched_at", "fetched_pages", ["fetched_at"])


def downgrade() -> None:
    op.drop_index("ix_fetched_pages_fetched_at", "fetched_pages")
    op.drop_table("fetched_pages")
    op.drop_index("ix_alert_group_keys_alert", "alert_group_keys")
    op.drop_table("alert_group_keys")
    with op.batch_alter_table("alerts") as batch:
        for name in ("ix_alerts_decided", "ix_alerts_status_due", "ix_alerts_status_opened", "ix_alerts_opened_category"):
            batch.drop_index(name)
        batch.drop_index("ix_alerts_group")
        batch.drop_column("group_size")
        batch.drop_column("group_id")
    with op.batch_alter_table("posts") as batch:
        batch.drop_index("ix_posts_parent")
        batch.drop_index("ix_posts_thread")
        batch.drop_column("parent_id")
        batch.drop_column("thread_id")
