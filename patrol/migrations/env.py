"""Alembic environment. Store passes its own connection (already in a write transaction) through
`config.attributes["connection"]`; the alembic command line (revision --autogenerate, upgrade,
current) opens one from patrol.settings, i.e. PATROL_DATABASE_URL or the SQLite file under PATROL_HOME."""
from __future__ import annotations

from alembic import context

from patrol.store import make_engine, metadata


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    from patrol.settings import Settings

    settings = Settings()
    settings.ensure_home()
    engine = make_engine(settings.resolved_database_url, echo=False)
    with engine.connect() as conn:
        # A write transaction from the start (SQLite: BEGIN IMMEDIATE), as Store does.
        conn.execution_options(patrol_write=True)
        run(conn)
    engine.dispose()
