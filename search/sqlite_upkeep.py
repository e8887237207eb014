"""The SQLite index's upkeep beside its reads and writes: its identity stamp, following its file
when it is moved away or replaced, removing purged posts and rebuilding it whole.

The stamp: `index_meta` holds `store_id`, the identity of the workflow database the index was
built from (patrol.index_identity compares them), so an index file from another database, or an
empty one created while the real one was away, is noticed instead of silently served.

The file: the index remembers which file (device, inode) it opened. A file moved away or
deleted makes every call raise IndexUnavailable, instead of serving the open copy while new
posts go elsewhere; a file put back, or a new one at the same path with the same stamp (`patrol
reindex --full`), is followed: each thread reopens its connection.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Iterable, Sequence

from search.index import IndexedPost, IndexUnavailable, check_post

META_SCHEMA = "CREATE TABLE IF NOT EXISTS index_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
_STAMP_KEY = "store_id"
_TABLES = ("post_fts", "post_category", "post_facet", "facet_count", "posts")
_MAX_PARAMS = 500


def file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def read_stamp(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM index_meta WHERE key = ?", (_STAMP_KEY,)).fetchone()
    return row[0] if row else None


class SqliteUpkeep:
    """Mixed into SqliteIndex; uses its connection, guard, write lock, segmenter and upsert."""

    path: Path
    _file: tuple[int, int] | None
    _generation: int
    _expected_stamp: str | None

    def _follow_file(self) -> None:
        """Called before every use of a connection (a stat: microseconds)."""
        now = file_id(self.path)
        if now == self._file:
            return
        if now is None:
            raise IndexUnavailable(f"the search index file {self.path} was moved away or deleted while open; "
                                   "put it back, or rebuild it from the store with `patrol reindex --full`")
        probe = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10.0)
        try:
            stamp = read_stamp(probe)
        except sqlite3.DatabaseError:
            stamp = None
        finally:
            probe.close()
        if stamp != self._expected_stamp:
            raise IndexUnavailable(f"the search index file {self.path} was replaced by one stamped "
                                   f"{stamp or '(none)'}, not {self._expected_stamp or '(none)'}; "
                                   "`patrol reindex --full` rebuilds it from the store")
        with self._lock:
            self._file, self._generation = now, self._generation + 1

    # ------------------------------------------------------------------ identity

    def identity(self) -> str | None:
        """The store identity this index was stamped with (None: never stamped). IndexUnavailable
        when the file was moved away or replaced by a foreign one."""
        with self._guard("read"):
            return read_stamp(self._conn())

    def stamp(self, store_id: str) -> None:
        with self._guard("write to"):
            conn = self._conn()
            with self._write(conn):
                conn.execute("INSERT INTO index_meta (key, value) VALUES (?, ?) ON CONFLICT DO UPDATE "
                             "SET value = excluded.value", (_STAMP_KEY, store_id))
        self._expected_stamp = store_id

    def expect_stamp(self, store_id: str | None) -> None:
        """The stamp a replacement file must carry to be followed (set once the identity checked out)."""
        self._expected_stamp = store_id

    # ------------------------------------------------------------------ removing and rebuilding

    def remove(self, post_ids: Sequence[str]) -> int:
        """Drop these posts (retention's purge); ids not in the index are ignored. Returns how many went."""
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return 0
        with self._guard("write to"):
            conn = self._conn()
            with self._write(conn):
                removed = 0
                for i in range(0, len(ids), _MAX_PARAMS):
                    chunk = ids[i:i + _MAX_PARAMS]
                    rows = conn.execute(f"SELECT rowid, source, categories FROM posts WHERE id IN "
                                        f"({','.join('?' * len(chunk))})", chunk).fetchall()
                    for table in ("post_fts", "post_category", "post_facet", "posts"):
                        conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(r[0],) for r in rows])
                    conn.executemany("UPDATE facet_count SET n = n - 1 WHERE source = ? AND categories = ?",
                                     [(r[1], r[2]) for r in rows])
                    removed += len(rows)
                conn.execute("DELETE FROM facet_count WHERE n <= 0")
        return removed

    def rebuild(self, batches: Iterable[Sequence[IndexedPost]], store_id: str) -> int:
        """Replace the whole content with `batches` and stamp it, in ONE transaction: searches see
        the old content until the new one is complete, never a half-built index."""
        with self._guard("rebuild"):
            conn = self._conn()
            with self._write(conn):
                for table in _TABLES:
                    conn.execute(f"DELETE FROM {table}")
                total = 0
                for batch in batches:
                    latest = {}
                    for post in batch:
                        check_post(post)
                        latest[post.id] = post
                    posts = list(latest.values())
                    if posts:
                        self._upsert(conn, posts, self._segment([(p.title, p.text, p.normalised) for p in posts]))
                        total += len(posts)
                conn.execute("INSERT INTO index_meta (key, value) VALUES (?, ?) ON CONFLICT DO UPDATE "
                             "SET value = excluded.value", (_STAMP_KEY, store_id))
        self._expected_stamp = store_id
        return total
