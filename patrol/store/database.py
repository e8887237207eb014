"""The connection to the workflow database: the engine, read and write transactions, and the
migrations run on start. SQLite by default (one file under PATROL_HOME), PostgreSQL in production.

Every repository (posts, alerts, users, audit, sources, counts) runs its statements through one
`Database`, so every change and its audit event share one transaction. Audit appends are
serialised on the `audit_head` row (SQLite: every write transaction is BEGIN IMMEDIATE;
PostgreSQL: the head row is locked FOR UPDATE first), so two writers can never fork the chain.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from patrol.posts import text_problem
from patrol.store.engine import make_engine
from patrol.store.records import StoreUnavailable

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SYSTEM_ACTOR = "system"  # the actor of events no user caused (ingest, crawl health, `patrol users add`)


def findable(key: Any) -> bool:
    """Whether `key` could be the id or name of a stored row. Keys that cannot (a NUL, a lone
    surrogate: no row holds one) are not looked up, because PostgreSQL would refuse the query itself."""
    return isinstance(key, str) and text_problem(key) is None


class Database:
    """One engine and the two kinds of transaction the repositories use."""

    def __init__(self, url: str, echo: bool = False, audit_key=None):
        self.engine: Engine = make_engine(url, echo)
        self.dialect = self.engine.dialect.name
        # The audit key (patrol.audit_key.AuditKey) every AuditChain of this database appends with.
        self.audit_key = audit_key

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._unavailable_as_error(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._unavailable_as_error(), self.engine.connect() as conn:
            conn.execution_options(patrol_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _unavailable_as_error(self) -> Iterator[None]:
        # Locked (SQLite's busy timeout ran out), unreachable or out of disk: the transaction was
        # rolled back, and callers (ingest, crawl, the API's 503) say so instead of crashing.
        try:
            yield
        except OperationalError as exc:
            where = self.engine.url.render_as_string(hide_password=True)
            raise StoreUnavailable(f"the workflow database {where} is unavailable: {exc.orig}") from exc

    def migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.write() as conn:
            if self.dialect == "postgresql":
                # Two processes starting at once on an empty database must not both create tables.
                conn.execute(text("SELECT pg_advisory_xact_lock(7243951)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def close(self) -> None:
        self.engine.dispose()
