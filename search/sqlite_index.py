"""The embedded post index: SQLite FTS5 over pre-segmented tokens (see search/README.md).

Layout: `posts` holds every IndexedPost field under a time-ordered integer rowid
(published second << 20 | slot), `post_fts` the title and body tokens under the same rowid,
`post_category` one row per label. Date filters become rowid ranges; bm25 ranks with the title
weighted above the body.

Concurrency: WAL, one connection per thread, writes serialised by a lock in this process and by
BEGIN IMMEDIATE (with a busy timeout) across processes, so one writer and many readers coexist.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator, Sequence

from search import cursor as cursors
from search.highlight import highlight
from search.index import (
    MAX_LIMIT,
    BadCursor,
    Hit,
    IndexedPost,
    IndexUnavailable,
    InvalidSearch,
    SearchError,
    SearchQuery,
    SearchResult,
    check_post,
)
from search.query import parse
from search.sqlite_query import SLOT_BITS, Plan, epoch_us, plan, rowid_floor
from search.tokens import DEFAULT_SEGMENTER, Segmenter

SCHEMA_VERSION = 1
TITLE_WEIGHT, BODY_WEIGHT = 3.0, 1.0
_MAX_PARAMS = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS posts (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    author TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_us INTEGER NOT NULL,
    fetched_at TEXT NOT NULL,
    primary_category TEXT NOT NULL,
    categories TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS posts_source ON posts(source);
CREATE INDEX IF NOT EXISTS posts_author ON posts(author);
CREATE INDEX IF NOT EXISTS posts_status ON posts(status);
CREATE INDEX IF NOT EXISTS posts_primary ON posts(primary_category);
CREATE TABLE IF NOT EXISTS post_category (
    rowid INTEGER NOT NULL,
    category TEXT NOT NULL,
    PRIMARY KEY (rowid, category)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS post_category_by_name ON post_category(category, rowid);
CREATE VIRTUAL TABLE IF NOT EXISTS post_fts USING fts5(
    title, body, tokenize = 'unicode61 remove_diacritics 0'
);
"""

_HIT_COLUMNS = "p.id, p.source, p.url, p.title, p.text, p.published_at, p.primary_category, p.categories"


class SqliteIndex:
    def __init__(self, path: str | Path, *, segmenter: Segmenter = DEFAULT_SEGMENTER):
        self.path = Path(path)
        self.segmenter = segmenter
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()  # guards _connections and serialises this process's writes
        self._closed = False
        with self._guard("open"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._conn()
            with self._write(conn):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # ------------------------------------------------------------------ connections and errors

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise IndexUnavailable(f"the search index at {self.path} is closed")
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA cache_size = -32768")  # 32 MB: B-tree inserts at scattered rowids
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:  # corrupt file, locked, disk full, unreadable
            raise IndexUnavailable(f"cannot {doing} the search index at {self.path}: {exc}") from exc
        except OSError as exc:
            raise IndexUnavailable(f"cannot {doing} the search index at {self.path}: {exc}") from exc

    @contextmanager
    def _write(self, conn: sqlite3.Connection) -> Iterator[None]:
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    # ------------------------------------------------------------------ writing

    def add(self, posts: Sequence[IndexedPost]) -> None:
        latest: dict[str, IndexedPost] = {}
        for post in posts:  # the last version of an id in a batch wins, as if added one by one
            check_post(post)
            latest[post.id] = post
        if not latest:
            return
        tokens = {pid: (self.segmenter.token_text(p.title), self.segmenter.token_text(p.text))
                  for pid, p in latest.items()}
        with self._guard("write to"):
            conn = self._conn()
            with self._write(conn):
                self._upsert(conn, list(latest.values()), tokens)

    def _upsert(self, conn: sqlite3.Connection, posts: list[IndexedPost], tokens: dict[str, tuple[str, str]]) -> None:
        old: dict[str, int] = {}
        ids = [p.id for p in posts]
        for i in range(0, len(ids), _MAX_PARAMS):
            chunk = ids[i:i + _MAX_PARAMS]
            old.update(conn.execute(f"SELECT id, rowid FROM posts WHERE id IN ({','.join('?' * len(chunk))})",
                                    chunk).fetchall())
        stale = [(r,) for r in old.values()]
        conn.executemany("DELETE FROM post_fts WHERE rowid = ?", stale)
        conn.executemany("DELETE FROM post_category WHERE rowid = ?", stale)
        conn.executemany("DELETE FROM posts WHERE rowid = ?", stale)

        rowids: dict[str, int] = {}
        taken: dict[int, int] = {}  # second -> highest slot rowid used by this batch
        pending: list[IndexedPost] = []
        for post in posts:
            base = rowid_floor(post.published_at)
            previous = old.get(post.id)
            if previous is not None and previous >> SLOT_BITS == base >> SLOT_BITS:
                # Same second: keep the rowid, so re-adding a post changes nothing.
                rowids[post.id] = previous
                taken[base] = max(taken.get(base, previous), previous)
            else:
                pending.append(post)
        if pending:
            # One scan of the batch's time span finds the highest used slot of every second in it.
            bases = [rowid_floor(p.published_at) for p in pending]
            for base, top in conn.execute(
                    "SELECT (rowid >> ?) << ?, max(rowid) FROM posts WHERE rowid >= ? AND rowid < ? GROUP BY 1",
                    (SLOT_BITS, SLOT_BITS, min(bases), max(bases) + (1 << SLOT_BITS))):
                taken[base] = max(taken.get(base, top), top)
        for post in pending:
            base = rowid_floor(post.published_at)
            top = taken.get(base)
            rowid = base if top is None else top + 1
            if rowid >= base + (1 << SLOT_BITS):
                raise SearchError(f"more than {1 << SLOT_BITS} posts published in the same second")
            rowids[post.id] = rowid
            taken[base] = rowid

        # FTS5 flushes its pending terms whenever a rowid is not above the previous one, so rows go
        # in rowid order: one segment per batch instead of one per post (5x faster on shuffled input).
        ordered = sorted(posts, key=lambda p: rowids[p.id])
        conn.executemany(
            "INSERT INTO posts (rowid, id, source, url, title, text, author, published_at, published_us,"
            " fetched_at, primary_category, categories, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(rowids[p.id], p.id, p.source, p.url, p.title, p.text, p.author, p.published_at.isoformat(),
              epoch_us(p.published_at), p.fetched_at.isoformat(), p.primary,
              json.dumps(list(p.categories), ensure_ascii=False), p.status) for p in ordered])
        conn.executemany("INSERT INTO post_fts (rowid, title, body) VALUES (?, ?, ?)",
                         [(rowids[p.id], *tokens[p.id]) for p in ordered])
        conn.executemany("INSERT OR IGNORE INTO post_category (rowid, category) VALUES (?, ?)",
                         [(rowids[p.id], c) for p in ordered for c in p.categories])

    def set_status(self, post_id: str, status: str) -> None:
        """A post not (yet) in the index is left alone: add() carries the status when it arrives."""
        with self._guard("write to"):
            conn = self._conn()
            with self._write(conn):
                conn.execute("UPDATE posts SET status = ? WHERE id = ?", (status, post_id))

    # ------------------------------------------------------------------ reading

    def get(self, post_id: str) -> IndexedPost | None:
        with self._guard("read"):
            row = self._conn().execute(
                "SELECT id, source, url, title, text, author, published_at, fetched_at, primary_category,"
                " categories, status FROM posts WHERE id = ?", (post_id,)).fetchone()
        if row is None:
            return None
        return IndexedPost(
            id=row[0], source=row[1], url=row[2], title=row[3], text=row[4], author=row[5],
            published_at=datetime.fromisoformat(row[6]), fetched_at=datetime.fromisoformat(row[7]),
            primary=row[8], categories=tuple(json.loads(row[9])), status=row[10])

    def count(self) -> int:
        with self._guard("read"):
            return self._conn().execute("SELECT count(*) FROM posts").fetchone()[0]

    def search(self, query: SearchQuery) -> SearchResult:
        if not 1 <= query.limit <= MAX_LIMIT:
            raise InvalidSearch(f"limit must be between 1 and {MAX_LIMIT}, got {query.limit}")
        has_filters = any(v is not None for v in
                          (query.category, query.source, query.published_from, query.published_to))
        parsed = parse(query.q, has_filters=has_filters, segmenter=self.segmenter)
        after = cursors.decode(query)
        if after is not None and not (len(after) == 2 and isinstance(after[0], (int, float))
                                      and isinstance(after[1], int)):
            raise BadCursor("the cursor does not fit this index; start again from the first page")
        p = plan(parsed.root)
        if query.category is not None:
            p.add("p.rowid IN (SELECT rowid FROM post_category WHERE category = ?)", query.category)
        if query.source is not None:
            p.add("p.source = ?", query.source)
        p.add_dates(query.published_from, query.published_to)

        with self._guard("search"):
            conn = self._conn()
            keys = conn.execute(*_page_sql(p, after, query.limit + 1)).fetchall()
            more = len(keys) > query.limit
            keys = keys[:query.limit]
            rows = {}
            if keys:
                rowids = [k[0] for k in keys]
                rows = {r[0]: r for r in conn.execute(
                    f"SELECT p.rowid, {_HIT_COLUMNS} FROM posts p WHERE p.rowid IN ({','.join('?' * len(rowids))})",
                    rowids)}
            total, facets = _count_and_facets(conn, p, query.facets)

        phrases = parsed.positive_phrases()
        hits = []
        for rowid, score in keys:
            r = rows[rowid]
            hits.append(Hit(
                id=r[1], score=-score, source=r[2], url=r[3], title=r[4],
                published_at=datetime.fromisoformat(r[6]), primary=r[7], categories=tuple(json.loads(r[8])),
                highlights=highlight(self.segmenter, r[4], r[5], phrases) if query.highlight else ()))
        next_cursor = cursors.encode(query, [keys[-1][1], keys[-1][0]]) if more else None
        return SearchResult(total=total, hits=tuple(hits), facets=facets, next_cursor=next_cursor)


# ---------------------------------------------------------------------- SQL assembly


def _matches_sql(p: Plan, with_score: bool) -> tuple[str, list]:
    """SELECT rid[, score] of every match, unordered."""
    if p.match is not None:
        rowid = "post_fts.rowid"
        score = f"bm25(post_fts, {TITLE_WEIGHT}, {BODY_WEIGHT})"
        # Join the posts table only when a condition needs its columns: the join costs a B-tree
        # lookup per match, which dominates common-word queries.
        source = "post_fts JOIN posts p ON p.rowid = post_fts.rowid" if p.conditions else "post_fts"
        where = ["post_fts MATCH ?"]
        params = [p.match]
    else:
        rowid, score, source, where, params = "p.rowid", "0.0", "posts p", [], []
    where += [c.format(rowid=rowid) for c in p.conditions]
    params += p.params
    columns = f"{rowid} AS rid, {score} AS score" if with_score else f"{rowid} AS rid"
    sql = f"SELECT {columns} FROM {source}"
    if where:
        sql += " WHERE " + " AND ".join(f"({w})" for w in where)
    return sql, params


def _page_sql(p: Plan, after: list | None, limit: int) -> tuple[str, list]:
    inner, params = _matches_sql(p, with_score=True)
    if p.match is None:
        # Newest first straight off the rowid B-tree; no materialisation needed.
        sql = f"SELECT * FROM ({inner})"
        if after:
            sql += " WHERE rid < ?"
            params = params + [after[1]]
        return sql + " ORDER BY rid DESC LIMIT ?", params + [limit]
    # bm25 scores every match anyway (no top-k pruning), so materialising costs nothing extra and
    # keeps the auxiliary function out of the outer WHERE.
    if after:
        sql = f"WITH m AS MATERIALIZED ({inner}) SELECT * FROM m WHERE score > ? OR (score = ? AND rid < ?)"
        params = params + [after[0], after[0], after[1]]
    else:
        sql = inner
    return sql + " ORDER BY score, rid DESC LIMIT ?", params + [limit]


def _count_and_facets(conn: sqlite3.Connection, p: Plan, facets: bool) -> tuple[int, dict[str, dict[str, int]]]:
    inner, params = _matches_sql(p, with_score=False)
    if not facets:
        return conn.execute(f"SELECT count(*) FROM ({inner})", params).fetchone()[0], {}
    rows = conn.execute(
        f"WITH m AS MATERIALIZED ({inner}) "
        "SELECT 'total', '', count(*) FROM m "
        "UNION ALL SELECT 'source', p.source, count(*) FROM m JOIN posts p ON p.rowid = m.rid GROUP BY p.source "
        "UNION ALL SELECT 'category', c.category, count(*) FROM m JOIN post_category c ON c.rowid = m.rid"
        " GROUP BY c.category", params).fetchall()
    total = 0
    out: dict[str, dict[str, int]] = {"category": {}, "source": {}}
    for facet, value, n in rows:
        if facet == "total":
            total = n
        else:
            out[facet][value] = n
    return total, out
