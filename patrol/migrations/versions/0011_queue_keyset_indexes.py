"""The queue's keyset indexes, with group_id and the id (issue 11, page speed).

The queue reads one status at a time, leads only (`group_id IS NULL`), in the order of its sort,
and continues after the cursor's (keys..., id). For that read to come from an index alone and stop
after one page, the index must hold status, group_id, the sort's keys and the id, in that order:
ix_alerts_status_due and ix_alerts_status_opened (0007) lacked the id, and the 0006 indexes lacked
group_id, so the queue sorted every active alert on each view. The two 0007 indexes grow the id
(they stay covering for the dashboard's counts), the "due" sort and the overdue count get theirs,
and the two 0006 indexes they supersede go: one index fewer for every alert written.

rule_overrides: an administrator's change to a rule of the rules file (enabled, min_score),
made on the console's rules page (patrol/rule_overrides.py).

Revision ID: 0011
Revises: 0006
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0006"
branch_labels = None
depends_on = None

NEW = {
    "ix_alerts_status_due": ["status", "group_id", "severity_rank", "due_at", "id"],
    "ix_alerts_status_opened": ["status", "group_id", "opened_at", "id"],
    "ix_alerts_status_group_due": ["status", "group_id", "due_at", "id"],
}
OLD = {
    "ix_alerts_status_due": ["status", "group_id", "severity_rank", "due_at"],
    "ix_alerts_status_opened": ["status", "group_id", "opened_at"],
    "ix_alerts_status_rank_due_id": ["status", "severity_rank", "due_at", "id"],
    "ix_alerts_status_opened_id": ["status", "opened_at", "id"],
}


def upgrade() -> None:
    for name in OLD:
        op.drop_index(name, table_name="alerts")
    for name, columns in NEW.items():
        op.create_index(name, "alerts", columns)
    op.create_table(
        "rule_overrides",
        sa.Column("rule", sa.String(100), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("min_score", sa.Float, nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rule_overrides")
    for name in NEW:
        op.drop_index(name, table_name="alerts")
    for name, columns in OLD.items():
        op.create_index(name, "alerts", columns)
