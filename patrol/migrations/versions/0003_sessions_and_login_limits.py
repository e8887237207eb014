"""Server-side sessions, failed-login counters, and the known-default-password flag on users.

Sessions make logout, a password or role change and deactivation end a token or a console cookie
at once; login_limits hold the back-off and lockout counters. Existing users are checked once
against the known default passwords (the demo user's `demo` above all), since only the password
itself can tell.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""
from alembic import op
import bcrypt
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
# A frozen copy of patrol.users.KNOWN_DEFAULT_PASSWORDS as this migration sees it.
KNOWN_DEFAULTS = ("demo", "admin", "password", "patrol", "changeme", "12345678", "123456")
users = sa.table("users", sa.column("name", sa.String), sa.column("password_hash", sa.String),
                 sa.column("default_password", sa.Boolean))


def _is_default(name: str, password_hash: str) -> bool:
    hashed = password_hash.encode("ascii")
    try:
        return any(bcrypt.checkpw(p.encode("utf-8"), hashed) for p in (*KNOWN_DEFAULTS, name)
                   if len(p.encode("utf-8")) <= 72)
    except ValueError:  # not a bcrypt hash: nobody can log in with it anyway
        return False


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("default_password", sa.Boolean, nullable=False, server_default=sa.text("false")))
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("ended_reason", sa.String(40), nullable=True),
    )
    op.create_index("ix_sessions_user", "sessions", ["user_name", "ended_at"])
    op.create_table(
        "login_limits",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", TS, nullable=True),
        sa.Column("blocked_until", TS, nullable=True),
        sa.Column("locked", sa.Boolean, nullable=False),
    )
    conn = op.get_bind()
    for name, password_hash in conn.execute(sa.select(users.c.name, users.c.password_hash)).all():
        if _is_default(name, password_hash):
            conn.execute(sa.update(users).where(users.c.name == name).values(default_password=True))


def downgrade() -> None:
    op.drop_table("login_limits")
    op.drop_index("ix_sessions_user", "sessions")
    op.drop_table("sessions")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("default_password")
