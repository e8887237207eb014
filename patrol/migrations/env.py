"""Alembic environment. Store passes its own connection (already in a write transaction) through
`config.attributes["connection"]`; the alembic command line opens one from patrol.settings."""
from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
else:
    from patrol.settings import Settings
    from patrol.store import Store

    # Store() migrates on construction, with the locking that makes concurrent starts safe.
    settings = Settings()
    settings.ensure_home()
    Store(settings.resolved_database_url).close()
