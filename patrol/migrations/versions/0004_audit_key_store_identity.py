"""The keyed audit chain, the store's identity, and retention's index.

- audit_head gains `key_id` (the audit key's public id, NULL while the chain is not keyed) and
  `keyed_from` (the first event hashed with the key). Existing chains keep their plain SHA-256
  events untouched (rewriting them would destroy the evidence they are); the first process that
  opens the store with the key appends an `audit.keyed` event naming how many came before and
  keys everything after it (docs/AUDIT.md, "Existing chains").
- store_meta holds `store_id`, a random identity made here once, which the search index is
  stamped with so that a missing or foreign index is noticed (search/README.md, "Identity").
- posts.first_seen gets its own index: retention picks old posts by it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""
import uuid

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("key_id", sa.String(16), nullable=True))
        batch.add_column(sa.Column("keyed_from", sa.Integer, nullable=True))
    meta = op.create_table(
        "store_meta",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.bulk_insert(meta, [{"key": "store_id", "value": uuid.uuid4().hex}])
    op.create_index("ix_posts_first_seen", "posts", ["first_seen"])


def downgrade() -> None:
    op.drop_index("ix_posts_first_seen", "posts")
    op.drop_table("store_meta")
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("keyed_from")
        batch.drop_column("key_id")
