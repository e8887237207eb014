"""Officers' labels (from decisions, the recall sample and search) and the daily recall sample.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "post_labels",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("post_id", sa.String(64), sa.ForeignKey("posts.id"), nullable=False),
        sa.Column("post_version", sa.Integer, nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("alert_id", sa.String(64), sa.ForeignKey("alerts.id"), nullable=True),
        sa.Column("decision", sa.String(20), nullable=True),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("predicted", sa.String(40), nullable=True),
        sa.Column("labelled_by", sa.String(64), nullable=False),
        sa.Column("labelled_at", TS, nullable=False),
    )
    op.create_index("ix_post_labels_post_id", "post_labels", ["post_id"])
    op.create_index("ix_post_labels_labelled_at", "post_labels", ["labelled_at"])
    op.create_table(
        "recall_samples",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("post_id", sa.String(64), sa.ForeignKey("posts.id"), primary_key=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("drawn_at", TS, nullable=False),
        sa.Column("label_id", sa.Integer, sa.ForeignKey("post_labels.id"), nullable=True),
    )
    op.create_index("ix_recall_samples_label_id", "recall_samples", ["label_id"])


def downgrade() -> None:
    op.drop_index("ix_recall_samples_label_id", table_name="recall_samples")
    op.drop_table("recall_samples")
    op.drop_index("ix_post_labels_labelled_at", table_name="post_labels")
    op.drop_index("ix_post_labels_post_id", table_name="post_labels")
    op.drop_table("post_labels")
