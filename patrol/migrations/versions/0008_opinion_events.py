"""Public-opinion views: events and their posts, the MinHash band index, hourly counts per key,
bursts (one row per key and window), watch-lists.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "opinion_events",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("renamed", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("merged_into", sa.String(32), nullable=True),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sources", JSON, nullable=False),
        sa.Column("terms", JSON, nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("places", JSON, nullable=False),
        sa.Column("place_code", sa.String(6), nullable=False),
        sa.Column("sentiment_sum", sa.Float, nullable=False),
        sa.Column("negative", sa.Integer, nullable=False),
        sa.Column("seeds", JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_opinion_events_status_last_seen", "opinion_events", ["status", "last_seen"])
    op.create_index("ix_opinion_events_place", "opinion_events", ["place_code"])
    op.create_table(
        "opinion_event_posts",
        sa.Column("post_id", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("sentiment", sa.Float, nullable=False),
        sa.Column("negative", sa.Boolean, nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("place_code", sa.String(6), nullable=False),
        sa.Column("words", JSON, nullable=False),
    )
    op.create_index("ix_opinion_event_posts_event_at", "opinion_event_posts", ["event_id", "at"])
    op.create_table(
        "opinion_event_bands",
        sa.Column("band_key", sa.String(16), primary_key=True),
        sa.Column("event_id", sa.String(32), primary_key=True),
    )
    op.create_table(
        "opinion_counts",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("hour", TS, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_table(
        "opinion_bursts",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("window_start", TS, primary_key=True),
        sa.Column("alert_id", sa.String(64), nullable=False),
        sa.Column("current", sa.Integer, nullable=False),
        sa.Column("expected", sa.Float, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
    )
    op.create_table(
        "watchlists",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("terms", JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("min_count", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("watchlists", "opinion_bursts", "opinion_counts", "opinion_event_bands",
                  "opinion_event_posts", "opinion_events"):
        op.drop_table(table)
