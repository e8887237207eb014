"""Event clustering weighs words by rarity: the document frequency of each word over the
clustered posts (patrol/events/rarity.py), kept incrementally. The row of the empty word holds the
number of posts counted.

Revision ID: 0012
Revises: 0006
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "opinion_word_df",
        sa.Column("word", sa.String(64), primary_key=True),
        sa.Column("df", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("opinion_word_df")
