"""Event clustering weighs words by rarity: the document frequency of each word over the
clustered posts (patrol/events/rarity.py), kept incrementally. The row of the empty word holds the
number of posts counted. Events gain their trace: the splits and merges they went through, by an
officer or automatically (patrol/events/drift.py); null for events written before.

Revision ID: 0012
Revises: 0006
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "opinion_word_df",
        sa.Column("word", sa.String(64), primary_key=True),
        sa.Column("df", sa.Integer, nullable=False),
    )
    op.add_column("opinion_events", sa.Column("trace", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("opinion_events") as batch:
        batch.drop_column("trace")
    op.drop_table("opinion_word_df")
