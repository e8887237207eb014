"""A durable local spool in front of a remote index (Elasticsearch): writes made while it is down
are kept on local disk and replayed in order, once each, when it is back.

    index = SpooledIndex(lambda: ElasticIndex(url, "patrol-posts"), spool_path)

- `add` and `set_status` go to the index. When it raises IndexUnavailable, or while anything is
  still spooled (so that no write overtakes an older one), the call is appended to the spool
  instead and returns normally: the spool, a SQLite file with `synchronous=FULL`, now answers for
  it, across restarts of the process.
- Every later write and `replay()` first try to drain the spool: entries in the order they were
  written, consecutive adds in one batch (the last copy of a post wins, as in the index itself),
  each entry deleted only after the index took it. A crash between the two replays that entry
  once more, which duplicates nothing: documents are keyed by post id, so a replay replaces.
- Replays hold the spool's write lock for their whole length, so two processes sharing the file
  (one PATROL_HOME) cannot interleave two replays out of order.
- Reads (`search`, `get`, `count`) need the index itself and raise IndexUnavailable while it is
  down; the spool cannot answer them. `pending()` says how much waits.

The spool stores what the index would store (IndexedPost values as JSON), so nothing needs the
workflow database to replay it.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

from search.index import IndexedPost, IndexUnavailable, SearchIndex, SearchQuery, SearchResult, check_post

log = logging.getLogger(__name__)

REPLAY_BATCH = 500  # entries read per replay step


def _post_to_json(post: IndexedPost) -> str:
    data = asdict(post)
    data["published_at"] = post.published_at.isoformat()
    data["fetched_at"] = post.fetched_at.isoformat()
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _post_from_json(text: str) -> IndexedPost:
    data = json.loads(text)
    data["published_at"] = datetime.fromisoformat(data["published_at"])
    data["fetched_at"] = datetime.fromisoformat(data["fetched_at"])
    data["categories"] = tuple(data["categories"])
    data["normalised_spans"] = tuple(tuple(s) for s in data["normalised_spans"])
    return IndexedPost(**data)


class SpooledIndex:
    """A SearchIndex that never loses a write to an outage of the one it wraps. `open_index` builds
    the wrapped index; it is called again at each use while it raises IndexUnavailable (a
    cluster down when the process starts)."""

    def __init__(self, open_index: Callable[[], SearchIndex], spool_path: Path | str):
        self._open_index = open_index
        self._index: SearchIndex | None = None
        self.spool_path = Path(spool_path)
        self.spool_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.spool_path, isolation_level=None, check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")  # an acknowledged write survives a power cut
        self._db.execute("CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                         " kind TEXT NOT NULL CHECK (kind IN ('add', 'status')), post_id TEXT NOT NULL,"
                         " body TEXT NOT NULL)")

    # ------------------------------------------------------------------ the wrapped index

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            self._index = self._open_index()
        return self._index

    def __getattr__(self, name: str):
        # Backend-specific extras (ElasticIndex.histogram, migrations) pass straight through.
        return getattr(self.index, name)

    # ------------------------------------------------------------------ writes

    def add(self, posts: Sequence[IndexedPost]) -> None:
        for post in posts:
            check_post(post)  # a post the index would refuse is refused now, not at replay
        if posts:
            self._write([("add", p.id, _post_to_json(p)) for p in posts])

    def set_status(self, post_id: str, status: str) -> None:
        self._write([("status", post_id, status)])

    def _write(self, entries: list[tuple[str, str, str]]) -> None:
        with self._lock:
            try:
                if self._drain():
                    self._apply(entries)
                    return
            except IndexUnavailable as exc:
                log.warning("index unavailable, %d write(s) spooled to %s: %s", len(entries), self.spool_path, exc)
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT INTO spool (kind, post_id, body) VALUES (?, ?, ?)", entries)
            self._db.execute("COMMIT")

    def _apply(self, entries: list[tuple[str, str, str]]) -> None:
        """Send entries to the index in order: runs of adds as one batch, statuses one by one."""
        run: list[IndexedPost] = []
        for kind, post_id, body in entries:
            if kind == "add":
                run.append(_post_from_json(body))
                continue
            if run:
                self.index.add(run)
                run = []
            self.index.set_status(post_id, body)
        if run:
            self.index.add(run)

    def _drain(self) -> bool:
        """Replay the spool in order; True when it is empty. IndexUnavailable when the index is
        down (what was replayed so far is gone from the spool, the rest stays, in order)."""
        while True:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute("SELECT seq, kind, post_id, body FROM spool ORDER BY seq LIMIT ?",
                                        (REPLAY_BATCH,)).fetchall()
                if not rows:
                    self._db.execute("COMMIT")
                    return True
                self._apply([(kind, post_id, body) for _, kind, post_id, body in rows])
                self._db.execute("DELETE FROM spool WHERE seq <= ?", (rows[-1][0],))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def replay(self) -> int:
        """Drain the spool now (`patrol reindex` does); how many entries went to the index.
        IndexUnavailable while it is still down."""
        with self._lock:
            before = self.pending()
            self._drain()
            return before

    def pending(self) -> int:
        return self._db.execute("SELECT count(*) FROM spool").fetchone()[0]

    # ------------------------------------------------------------------ reads

    def search(self, query: SearchQuery) -> SearchResult:
        return self.index.search(query)

    def get(self, post_id: str) -> IndexedPost | None:
        return self.index.get(post_id)

    def count(self) -> int:
        return self.index.count()

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
        self._db.close()
