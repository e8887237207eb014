"""Engines and the few statements whose SQL differs between SQLite and PostgreSQL."""
from __future__ import annotations

import json
from typing import Iterator

from sqlalchemy import Table, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool


def _json(value) -> str:
    """JSON columns as UTF-8 without \\uXXXX escapes or spaces: a Chinese character takes 3 bytes
    instead of 6, which halves the analyses the store keeps per post. Reads are unchanged (any
    JSON parses); control characters are still escaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def make_engine(url: str, echo: bool) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    if not url.startswith("sqlite"):
        return create_engine(url, echo=echo, pool_pre_ping=True, future=True, json_serializer=_json)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False},
                           poolclass=StaticPool if memory else None, json_serializer=_json)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN, so writes can ask for IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        # 64 MiB of page cache instead of SQLite's 2 MiB: the posts table's indexes are keyed by
        # hashed ids, so inserts land on random pages, and once those no longer fit the cache every
        # batch rereads them (the ingest rate fell as the store grew: bench/ingest_bench.py).
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A write takes SQLite's write lock up front: two writers reading the same chain head
        # and then both appending (a fork) is impossible, and no deferred upgrade can deadlock.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("patrol_write") else "BEGIN")

    return engine


def insert_ignore_stmt(conn: Connection, table: Table):
    """INSERT that does nothing on a unique conflict (post already stored, alert already open)."""
    ins = pg_insert(table) if conn.dialect.name == "postgresql" else sqlite_insert(table)
    return ins.on_conflict_do_nothing()


def upsert_add_stmt(conn: Connection, table: Table, key: list[str], counter: str):
    """INSERT that, on a conflict of `key`, adds the new row's `counter` to the stored one."""
    ins = pg_insert(table) if conn.dialect.name == "postgresql" else sqlite_insert(table)
    return ins.on_conflict_do_update(index_elements=key,
                                     set_={counter: table.c[counter] + ins.excluded[counter]})


def insert_ignore(conn: Connection, table: Table, values: dict) -> int:
    """1 when the row went in, 0 when a unique constraint said it already exists."""
    return conn.execute(insert_ignore_stmt(conn, table).values(values)).rowcount


def chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]
