"""Source health: consecutive failed passes become a column beside consecutive_empty.

They were kept as crawl state ("health" key, {"consecutive_failed": n}) and counted by a
read-modify-write in the crawler; as a column, one UPDATE counts both. Existing counts move over.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

HEALTH_KEY = "health"
# Frozen copies of the two tables as this migration sees them.
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
source_health = sa.table("source_health", sa.column("source", sa.String), sa.column("consecutive_failed", sa.Integer))
crawl_state = sa.table("crawl_state", sa.column("source", sa.String), sa.column("key", sa.String),
                       sa.column("value", JSON), sa.column("updated_at", TS))


def upgrade() -> None:
    with op.batch_alter_table("source_health") as batch:
        batch.add_column(sa.Column("consecutive_failed", sa.Integer, nullable=False, server_default=sa.text("0")))
    conn = op.get_bind()
    for source, value in conn.execute(sa.select(crawl_state.c.source, crawl_state.c.value)
                                      .where(crawl_state.c.key == HEALTH_KEY)).all():
        failed = value.get("consecutive_failed", 0) if isinstance(value, dict) else 0
        conn.execute(sa.update(source_health).where(source_health.c.source == source)
                     .values(consecutive_failed=int(failed or 0)))
    conn.execute(sa.delete(crawl_state).where(crawl_state.c.key == HEALTH_KEY))


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(source_health.c.source, source_health.c.consecutive_failed)).all()
    now = sa.func.current_timestamp()
    for source, failed in rows:
        conn.execute(sa.insert(crawl_state).values(source=source, key=HEALTH_KEY,
                                                   value={"consecutive_failed": failed}, updated_at=now))
    with op.batch_alter_table("source_health") as batch:
        batch.drop_column("consecutive_failed")
