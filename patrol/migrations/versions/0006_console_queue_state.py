"""The console's working state: every alert label in its own row (the 类别 filter on any label),
passed deadlines noticed once, notifications, when users were last seen, saved queue views.

Existing alerts' labels are copied from alerts.labels.

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
alerts = sa.table("alerts", sa.column("id", sa.String), sa.column("labels", JSON))
alert_labels = sa.table("alert_labels", sa.column("alert_id", sa.String), sa.column("label", sa.String))


def upgrade() -> None:
    op.create_table(
        "alert_labels",
        sa.Column("alert_id", sa.String(64), sa.ForeignKey("alerts.id"), primary_key=True),
        sa.Column("label", sa.String(40), primary_key=True),
    )
    op.create_index("ix_alert_labels_label", "alert_labels", ["label", "alert_id"])
    op.create_index("ix_alerts_status_rank_due_id", "alerts", ["status", "severity_rank", "due_at", "id"])
    op.create_index("ix_alerts_status_opened_id", "alerts", ["status", "opened_at", "id"])
    op.create_index("ix_alerts_status_due_id", "alerts", ["status", "due_at", "id"])
    op.create_table(
        "deadline_breaches",
        sa.Column("alert_id", sa.String(64), sa.ForeignKey("alerts.id"), primary_key=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("noticed_at", TS, nullable=False),
        sa.Column("notified", JSON, nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("alert_id", sa.String(64), sa.ForeignKey("alerts.id"), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("read_at", TS, nullable=True),
    )
    op.create_index("ix_notifications_user", "notifications", ["user", "id"])
    op.create_index("uq_notifications_user_alert_kind", "notifications", ["user", "alert_id", "kind"], unique=True)
    op.create_table(
        "console_presence",
        sa.Column("user", sa.String(64), primary_key=True),
        sa.Column("last_seen_at", TS, nullable=False),
    )
    op.create_table(
        "saved_views",
        sa.Column("user", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    conn = op.get_bind()
    batch = []
    for alert_id, labels in conn.execute(sa.select(alerts.c.id, alerts.c.labels)):
        batch += [{"alert_id": alert_id, "label": label} for label in dict.fromkeys(labels or ())]
        if len(batch) >= 5000:
            conn.execute(sa.insert(alert_labels), batch)
            batch = []
    if batch:
        conn.execute(sa.insert(alert_labels), batch)


def downgrade() -> None:
    for name in ("ix_alerts_status_rank_due_id", "ix_alerts_status_opened_id", "ix_alerts_status_due_id"):
        op.drop_index(name, table_name="alerts")
    for name in ("saved_views", "console_presence", "notifications", "deadline_breaches", "alert_labels"):
        op.drop_table(name)
