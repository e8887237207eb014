"""The embedded post index: SQLite FTS5 over pre-segmented tokens (see search/README.md).

Layout: `posts` holds every IndexedPost field under a time-ordered integer rowid
(published second << 20 | slot), `post_fts` the title, body and normalised-text words and
sub-word parts under the same rowid, `post_category` one row per label, `post_facet` the facet columns of each post and
`facet_count` their running totals. Date filters become rowid ranges; bm25 ranks with the title
weighted above the body, the body above the normalised text and whole words above parts.

Concurrency: WAL, one connection per thread, writes serialised by a lock in this process and by
BEGIN IMMEDIATE (with a busy timeout) across processes, so one writer and many readers coexist.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator, Sequence

from search import cursor as cursors
from search.highlight import Highlights, highlight
from search.index import (
    MAX_LIMIT,
    TOTAL_CAP,
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
from search.normalised import searchable
from search.query import parse
from search.sqlite_query import SLOT_BITS, Plan, plan, rowid_floor
from search.sqlite_upkeep import META_SCHEMA, SqliteUpkeep, file_id, read_stamp
from search.times import epoch_us
from search.tokens import DEFAULT_SEGMENTER, Segmenter

# 2: word and part columns in post_fts, emoji tokens, facet tables; 3: the normalised text
SCHEMA_VERSION = 3
TITLE_WEIGHT, BODY_WEIGHT = 3.0, 1.0
PART_WEIGHT = 0.5  # a word found inside a longer word ranks below the word standing alone
NORMALISED_WEIGHT = 0.8  # a word the original only spells evasively ranks a bit below one it says
_MAX_PARAMS = 500
_REBUILD_BATCH = 2000

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
    status TEXT NOT NULL,
    normalised TEXT NOT NULL DEFAULT '',
    normalised_spans TEXT NOT NULL DEFAULT ''
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
CREATE TABLE IF NOT EXISTS post_facet (
    rowid INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    categories TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS facet_count (
    source TEXT NOT NULL,
    categories TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (source, categories)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS post_fts USING fts5(
    title, body, title_parts, body_parts, norm, norm_parts, tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co So'"
);
"""

_HIT_COLUMNS = ("p.id, p.source, p.url, p.title, p.text, p.published_at, p.primary_category, p.categories,"
                " p.normalised, p.normalised_spans")
_NORM_WEIGHT = BODY_WEIGHT * NORMALISED_WEIGHT
_BM25 = (f"bm25(post_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}, {TITLE_WEIGHT * PART_WEIGHT}, "
         f"{BODY_WEIGHT * PART_WEIGHT}, {_NORM_WEIGHT}, {_NORM_WEIGHT * PART_WEIGHT})")
_FTS_INSERT = ("INSERT INTO post_fts (rowid, title, body, title_parts, body_parts, norm, norm_parts)"
               " VALUES (?,?,?,?,?,?,?)")


class SqliteIndex(SqliteUpkeep):
    def __init__(self, path: str | Path, *, segmenter: Segmenter = DEFAULT_SEGMENTER, create: bool = True):
        """`create=False`: a missing file is IndexUnavailable, not a new empty index (the store
        has posts marked indexed: an empty index would silently lose them from search)."""
        self.path = Path(path)
        self._file, self._generation, self._expected_stamp = None, 0, None
        self.segmenter = segmenter
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()  # guards _connections and serialises this process's writes
        self._closed = False
        self._categories_json: dict[tuple[str, ...], str] = {}
        try:
            if not create and not self.path.exists():
                raise IndexUnavailable(f"the search index {self.path} is missing; put it back, or rebuild "
                                       "it from the store with `patrol reindex --full`")
            with self._guard("open"):
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = self._conn()
                with self._write(conn):
                    self._create_or_upgrade(conn)
                self._file, self._expected_stamp = file_id(self.path), read_stamp(conn)
        except BaseException:
            self.close()  # no half-open connections left behind a refused file
            raise

    def _create_or_upgrade(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise IndexUnavailable(f"the search index at {self.path} was written by a newer Patrol "
                                   f"(layout {version}, this one reads {SCHEMA_VERSION})")
        had_posts = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'posts'").fetchone() is not None
        if had_posts and version < SCHEMA_VERSION:
            # The token layout changed; the posts table still holds every original, so the
            # derived tables are rebuilt from it here rather than asking for a full re-crawl.
            for table in ("post_fts", "post_facet", "facet_count"):
                conn.execute(f"DROP TABLE IF EXISTS {table}")
            columns = {r[1] for r in conn.execute("PRAGMA table_info(posts)")}
            for column in ("normalised", "normalised_spans"):  # layouts 1-2 had none: "" = unknown
                if column not in columns:
                    conn.execute(f"ALTER TABLE posts ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(META_SCHEMA)
        if had_posts and version < SCHEMA_VERSION:
            self._rebuild_derived(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _rebuild_derived(self, conn: sqlite3.Connection) -> None:
        """Refills post_fts, post_facet and facet_count from the posts table."""
        last = -(1 << 63)
        while True:
            rows = conn.execute(
                "SELECT rowid, title, text, source, categories, normalised FROM posts WHERE rowid > ?"
                " ORDER BY rowid LIMIT ?", (last, _REBUILD_BATCH)).fetchall()
            if not rows:
                break
            texts = self._segment([(r[1], r[2], r[5]) for r in rows])
            conn.executemany(_FTS_INSERT, [(r[0], *texts[i]) for i, r in enumerate(rows)])
            conn.executemany("INSERT INTO post_facet (rowid, source, categories) VALUES (?,?,?)",
                             [(r[0], r[3], r[4]) for r in rows])
            last = rows[-1][0]
        conn.execute("INSERT INTO facet_count (source, categories, n)"
                     " SELECT source, categories, count(*) FROM post_facet GROUP BY 1, 2")
    # ------------------------------------------------------------------ connections and errors

    def _conn(self) -> sqlite3.Connection:
        if self._file is not None:
            self._follow_file()  # moved away: IndexUnavailable; replaced by a same-stamp file: reopen
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "generation", 0) != self._generation:
            conn.close()
            conn = None
        if conn is None:
            if self._closed:
                raise IndexUnavailable(f"the search index at {self.path} is closed")
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA cache_size = -32768")  # 32 MB: B-tree inserts at scattered rowids
            self._local.conn, self._local.generation = conn, self._generation
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
        batch = list(latest.values())
        # Segmented before taking the write lock: it is half the cost of a batch.
        texts = self._segment([(p.title, p.text, p.normalised) for p in batch])
        with self._guard("write to"):
            conn = self._conn()
            with self._write(conn):
                self._upsert(conn, batch, texts)

    def _segment(self, posts: list[tuple[str, str, str]]) -> list[tuple[str, str, str, str, str, str]]:
        """(title, text, normalised) -> the post_fts columns: title, body, title_parts, body_parts,
        norm, norm_parts; one rjieba call for the whole batch."""
        n = len(posts)
        texts = self.segmenter.index_texts([t for t, _, _ in posts] + [b for _, b, _ in posts]
                                           + [searchable(t, b, m) for t, b, m in posts])
        return [(texts[i][0], texts[n + i][0], texts[i][1], texts[n + i][1], texts[2 * n + i][0], texts[2 * n + i][1])
                for i in range(n)]

    def _categories(self, categories: tuple[str, ...]) -> str:
        cached = self._categories_json.get(categories)
        if cached is None:
            cached = self._categories_json[categories] = json.dumps(list(categories), ensure_ascii=False)
        return cached

    def _upsert(self, conn: sqlite3.Connection, batch: list[IndexedPost], texts: list[tuple[str, ...]]) -> None:
        n = len(batch)
        counts: Counter[tuple[str, str]] = Counter()  # facet_count changes
        old: dict[str, int] = {}
        ids = [p.id for p in batch]
        for i in range(0, n, _MAX_PARAMS):
            chunk = ids[i:i + _MAX_PARAMS]
            for pid, rowid, source, categories in conn.execute(
                    f"SELECT id, rowid, source, categories FROM posts WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk):
                old[pid] = rowid
                counts[source, categories] -= 1
        if old:
            stale = [(r,) for r in old.values()]
            for table in ("post_fts", "post_category", "post_facet", "posts"):
                conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", stale)

        floors = [rowid_floor(p.published_at) for p in batch]
        rowids: list[int] = [0] * n
        taken: dict[int, int] = {}  # second -> highest slot rowid used by this batch
        pending: list[int] = []
        for i, post in enumerate(batch):
            previous = old.get(post.id)
            if previous is not None and previous >> SLOT_BITS == floors[i] >> SLOT_BITS:
                # Same second: keep the rowid, so re-adding a post changes nothing.
                rowids[i] = previous
                taken[floors[i]] = max(taken.get(floors[i], previous), previous)
            else:
                pending.append(i)
        if pending:
            # One scan of the batch's time span finds the highest used slot of every second in it.
            bases = [floors[i] for i in pending]
            for base, top in conn.execute(
                    "SELECT (rowid >> ?) << ?, max(rowid) FROM posts WHERE rowid >= ? AND rowid < ? GROUP BY 1",
                    (SLOT_BITS, SLOT_BITS, min(bases), max(bases) + (1 << SLOT_BITS))):
                taken[base] = max(taken.get(base, top), top)
            for i in pending:
                base = floors[i]
                top = taken.get(base)
                rowid = base if top is None else top + 1
                if rowid >= base + (1 << SLOT_BITS):
                    raise SearchError(f"more than {1 << SLOT_BITS} posts published in the same second")
                rowids[i] = taken[base] = rowid

        # FTS5 flushes its pending terms whenever a rowid is not above the previous one, so rows go
        # in rowid order: one segment per batch instead of one per post (5x faster on shuffled input).
        order = sorted(range(n), key=rowids.__getitem__)
        post_rows, fts_rows, facet_rows, category_rows = [], [], [], []
        for i in order:
            p, rowid = batch[i], rowids[i]
            categories = self._categories(p.categories)
            post_rows.append((rowid, p.id, p.source, p.url, p.title, p.text, p.author, p.published_at.isoformat(),
                              epoch_us(p.published_at), p.fetched_at.isoformat(), p.primary, categories, p.status,
                              p.normalised, _spans_json(p.normalised_spans)))
            fts_rows.append((rowid, *texts[i]))
            facet_rows.append((rowid, p.source, categories))
            counts[p.source, categories] += 1
            category_rows.extend((rowid, c) for c in p.categories)
        conn.executemany("INSERT INTO posts (rowid, id, source, url, title, text, author, published_at, published_us,"
                         " fetched_at, primary_category, categories, status, normalised, normalised_spans)"
                         " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", post_rows)
        conn.executemany(_FTS_INSERT, fts_rows)
        conn.executemany("INSERT INTO post_facet (rowid, source, categories) VALUES (?,?,?)", facet_rows)
        conn.executemany("INSERT OR IGNORE INTO post_category (rowid, category) VALUES (?, ?)", category_rows)
        changed = [(source, categories, delta) for (source, categories), delta in counts.items() if delta]
        conn.executemany("INSERT INTO facet_count (source, categories, n) VALUES (?,?,?)"
                         " ON CONFLICT DO UPDATE SET n = n + excluded.n", changed)
        if any(delta < 0 for _, _, delta in changed):
            conn.execute("DELETE FROM facet_count WHERE n <= 0")

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
                " categories, status, normalised, normalised_spans FROM posts WHERE id = ?", (post_id,)).fetchone()
        if row is None:
            return None
        return IndexedPost(
            id=row[0], source=row[1], url=row[2], title=row[3], text=row[4], author=row[5],
            published_at=datetime.fromisoformat(row[6]), fetched_at=datetime.fromisoformat(row[7]),
            primary=row[8], categories=tuple(json.loads(row[9])), status=row[10],
            normalised=row[11], normalised_spans=_spans(row[12]))

    def count(self) -> int:
        with self._guard("read"):
            # facet_count holds one row per (source, categories) pair: a sum, not a table scan.
            return self._conn().execute("SELECT coalesce(sum(n), 0) FROM facet_count").fetchone()[0]

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
            with _snapshot(conn):
                keys, total, groups, rows = _run(conn, p, after, query.limit, query.facets)
        more = len(keys) > query.limit
        keys = keys[:query.limit]
        facets = _facets(groups) if query.facets else {}

        phrases = parsed.positive_phrases()
        hits = []
        for rowid, score in keys:
            r = rows[rowid]
            marked = (highlight(self.segmenter, r[4], r[5], phrases, normalised=r[9], spans=_spans(r[10]))
                      if query.highlight else Highlights())
            hits.append(Hit(
                id=r[1], score=-score, source=r[2], url=r[3], title=r[4],
                published_at=datetime.fromisoformat(r[6]), primary=r[7], categories=tuple(json.loads(r[8])),
                highlights=marked.fragments, matched_normalised=marked.matched_normalised))
        next_cursor = cursors.encode(query, [keys[-1][1], keys[-1][0]]) if more else None
        # Totals beyond the cap are reported as Elasticsearch does (track_total_hits), so both indexes
        # answer alike; this index counted them all anyway (its facets stay exact).
        relation = "gte" if total > TOTAL_CAP else "eq"
        return SearchResult(total=min(total, TOTAL_CAP), hits=tuple(hits), facets=facets, next_cursor=next_cursor,
                            total_relation=relation)


# ---------------------------------------------------------------------- SQL assembly


@contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction, so the page, the total and the hit rows all see the same commit:
    a post moved by a concurrent add() cannot vanish between the page and its row."""
    conn.execute("BEGIN")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _run(conn: sqlite3.Connection, p: Plan, after: list | None, limit: int, facets: bool):
    if p.match is None:
        keys = conn.execute(*_recent_page_sql(p, after, limit + 1)).fetchall()
        total, groups = _count_recent(conn, p, facets)
    else:
        keys, total, groups = _ranked(conn, p, after, limit + 1, facets)
    rows = {}
    if keys:
        rowids = [k[0] for k in keys[:limit]]
        rows = {r[0]: r for r in conn.execute(
            f"SELECT p.rowid, {_HIT_COLUMNS} FROM posts p WHERE p.rowid IN ({','.join('?' * len(rowids))})",
            rowids)}
    return keys, total, groups, rows


def _where(p: Plan, rowid: str, first: list[str], params: list) -> tuple[str, list]:
    where = first + [c.format(rowid=rowid) for c in p.conditions]
    return (" WHERE " + " AND ".join(f"({w})" for w in where) if where else ""), params + p.params


def _recent_page_sql(p: Plan, after: list | None, limit: int) -> tuple[str, list]:
    """No words to rank by: newest first straight off the rowid B-tree, no materialisation."""
    where, params = _where(p, "p.rowid", ["p.rowid < ?"] if after else [], [after[1]] if after else [])
    return f"SELECT p.rowid, 0.0 FROM posts p{where} ORDER BY p.rowid DESC LIMIT ?", params + [limit]


def _count_recent(conn: sqlite3.Connection, p: Plan, facets: bool) -> tuple[int, list[tuple[str, str, int]]]:
    """Total and facet groups when there are no words. Unfiltered, both come from facet_count,
    which add() keeps up to date, so the console's opening view costs nothing however big the
    index; filtered, one pass over the matching posts groups them."""
    if not p.conditions:
        groups = conn.execute("SELECT source, categories, n FROM facet_count").fetchall()
        return sum(g[2] for g in groups), groups
    where, params = _where(p, "p.rowid", [], [])
    if not facets:
        return conn.execute(f"SELECT count(*) FROM posts p{where}", params).fetchone()[0], []
    groups = conn.execute(f"SELECT p.source, p.categories, count(*) FROM posts p{where} GROUP BY 1, 2",
                          params).fetchall()
    return sum(g[2] for g in groups), groups


def _ranked(conn: sqlite3.Connection, p: Plan, after: list | None, limit: int,
            facets: bool) -> tuple[list[tuple[int, float]], int, list[tuple[str, str, int]]]:
    """One statement: the MATCH runs once, its rows (with bm25, which has no top-k pruning and so
    scores every match anyway) are materialised, and both the page and the total/facet groups are
    read from them."""
    if p.conditions:
        # The conditions need the posts row anyway, so its facet columns come along for free.
        where, params = _where(p, "post_fts.rowid", ["post_fts MATCH ?"], [p.match])
        matches = (f"SELECT post_fts.rowid AS rid, {_BM25} AS score, p.source AS source, p.categories AS categories"
                   f" FROM post_fts JOIN posts p ON p.rowid = post_fts.rowid{where}")
        grouped = "SELECT 1, source, categories, count(*) FROM m GROUP BY 2, 3"
    else:
        # Without conditions the MATCH never touches posts; facets read the narrow post_facet
        # table (a few dozen bytes a row) instead of the posts rows with their full text.
        matches, params = f"SELECT rowid AS rid, {_BM25} AS score FROM post_fts WHERE post_fts MATCH ?", [p.match]
        grouped = ("SELECT 1, f.source, f.categories, count(*) FROM m JOIN post_facet f ON f.rowid = m.rid"
                   " GROUP BY 2, 3")
    if not facets:
        grouped = "SELECT 1, NULL, NULL, count(*) FROM m"
    page = "SELECT rid, score FROM m"
    if after:
        page += " WHERE score > ? OR (score = ? AND rid < ?)"
        params = params + [after[0], after[0], after[1]]
    sql = (f"WITH m AS MATERIALIZED ({matches}) "
           f"SELECT * FROM (SELECT 0, rid, score, NULL FROM ({page} ORDER BY score, rid DESC LIMIT ?)) "
           f"UNION ALL {grouped}")
    keys, groups, total = [], [], 0
    for kind, a, b, n in conn.execute(sql, params + [limit]):
        if kind == 0:
            keys.append((a, b))
        else:
            total += n
            groups.append((a, b, n))
    return keys, total, groups


def _facets(groups: list[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """(source, categories JSON, count) groups -> the category and source facets."""
    out: dict[str, dict[str, int]] = {"category": {}, "source": {}}
    sources, categories = out["source"], out["category"]
    for source, labels, n in groups:
        sources[source] = sources.get(source, 0) + n
        for label in json.loads(labels):
            categories[label] = categories.get(label, 0) + n
    return out


def _spans_json(spans: tuple[tuple[int, int, int, int], ...]) -> str:
    return json.dumps([list(s) for s in spans], separators=(",", ":")) if spans else ""


def _spans(stored: str) -> tuple[tuple[int, int, int, int], ...]:
    return tuple(tuple(s) for s in json.loads(stored)) if stored else ()
