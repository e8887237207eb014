"""Posts, their versions and their indexing marks.

A post row is the latest version; every distinct (title, text) also has a `post_versions` row.
`indexed` says whether the search index holds the latest version: edits reset it, and
`patrol reindex` writes what is still unmarked.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Iterator, Sequence

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from patrol.posts import RawPost
from patrol.store.database import Database, findable
from patrol.store.engine import chunks, insert_ignore_stmt
from patrol.store.records import PostRecord, PostVersion, SaveReport
from patrol.store.rows import (
    MARK_VERSION_INDEXED, TOUCH_POST, locked_posts, post_from_row, post_values, version_values,
)
from patrol.store.schema import post_versions, posts


class PostRepository:
    def __init__(self, db: Database):
        self._db = db

    def classify_changes(self, raws: Sequence[RawPost]) -> list[str]:
        """Per raw post: "new" | "edited" | "unchanged" | "deleted" against what is stored."""
        ids = list({r.id for r in raws})
        known: dict[str, str] = {}
        with self._db.read() as conn:
            for chunk in chunks(ids, 500):
                for row in conn.execute(select(posts.c.id, posts.c.version_hash).where(posts.c.id.in_(chunk))):
                    known[row.id] = row.version_hash
        out = []
        for r in raws:
            if r.deleted_upstream:
                out.append("deleted")
            elif r.id not in known:
                out.append("new")
            elif known[r.id] != r.version_hash:
                out.append("edited")
            else:
                out.append("unchanged")
        return out

    def upsert(self, conn: Connection, posts_in: Sequence[PostRecord], now: datetime,
               report: SaveReport) -> dict[str, int]:
        """Write `posts_in` inside the caller's transaction (Store.save_batch's); post id -> the
        version now stored. The batch path: new posts and unchanged re-fetches (nearly all of a
        crawl) are written with one statement each; edits, deletions and a post repeated within
        the batch go one by one."""
        firsts: dict[str, PostRecord] = {}
        repeats: list[PostRecord] = []
        for p in posts_in:
            if p.id in firsts:
                repeats.append(p)
            else:
                firsts[p.id] = p
        ids = sorted(firsts)
        existing = locked_posts(conn, ids)
        versions: dict[str, int] = {}
        fresh = [firsts[i] for i in ids if i not in existing]
        if fresh:
            rows = [post_values(p) | {"version": 1, "first_seen": now, "indexed": False} for p in fresh]
            inserted = set(conn.execute(insert_ignore_stmt(conn, posts).returning(posts.c.id), rows).scalars())
            won = [p for p in fresh if p.id in inserted]
            if won:
                conn.execute(post_versions.insert(), [version_values(p, 1) for p in won])
            for p in won:
                versions[p.id] = 1
                (report.deleted_post_ids if p.deleted_upstream else report.new_post_ids).append(p.id)
            # Another writer inserted these between our read and our insert: they are existing posts now.
            existing.update(locked_posts(conn, [p.id for p in fresh if p.id not in inserted]))
        touched = []
        for post_id in ids:
            if post_id in versions:
                continue
            p, row = firsts[post_id], existing[post_id]
            if not p.deleted_upstream and row.version_hash == p.version_hash:
                touched.append({"b_id": post_id, "b_fetched": p.fetched_at})
                report.unchanged_post_ids.append(post_id)
                versions[post_id] = row.version
            else:
                versions[post_id] = _change_post(conn, p, row, report)
        if touched:
            conn.execute(TOUCH_POST, touched)
        for p in repeats:
            versions[p.id] = _change_post(conn, p, locked_posts(conn, [p.id])[p.id], report)
        return versions

    def mark_indexed(self, posts_done: Iterable[str | PostRecord]) -> None:
        """Record that posts are in the search index. Pass the PostRecords that were indexed (not
        just ids) and a post edited meanwhile by another process stays unindexed, as it should."""
        ids, exact = [], []
        for p in posts_done:
            if isinstance(p, PostRecord):
                exact.append({"b_id": p.id, "b_version": p.version})
            elif isinstance(p, tuple):  # (id, version): what a long rebuild keeps instead of whole records
                exact.append({"b_id": p[0], "b_version": p[1]})
            else:
                ids.append(p)
        with self._db.write() as conn:
            for chunk in chunks(ids, 500):
                conn.execute(update(posts).where(posts.c.id.in_(chunk)).values(indexed=True))
            if exact:
                conn.execute(MARK_VERSION_INDEXED, exact)

    def has_indexed_posts(self) -> bool:
        with self._db.read() as conn:
            return conn.execute(select(posts.c.id).where(posts.c.indexed.is_(True)).limit(1)).first() is not None

    def unindexed_post_ids(self, limit: int = 1000) -> list[str]:
        with self._db.read() as conn:
            rows = conn.execute(select(posts.c.id).where(posts.c.indexed.is_(False))
                                .order_by(posts.c.first_seen, posts.c.id).limit(limit))
            return [r.id for r in rows]

    def get_posts(self, post_ids: Sequence[str]) -> list[PostRecord]:
        """The posts that exist, in the order asked."""
        found: dict[str, PostRecord] = {}
        with self._db.read() as conn:
            for chunk in chunks([i for i in post_ids if findable(i)], 500):
                for row in conn.execute(select(posts).where(posts.c.id.in_(chunk))):
                    found[row.id] = post_from_row(row)
        return [found[i] for i in post_ids if i in found]

    def iter_posts(self, page_size: int = 500, fetched_since: datetime | None = None) -> Iterator[PostRecord]:
        """Every stored post, in id order, one page at a time. Keyset paging on the primary key:
        each page is one short read, so a long scan neither holds a transaction open against the
        crawlers' writes nor loads every post into memory. A post stored during the scan is seen
        when its id sorts after the page being read. `fetched_since`: only posts stored, edited or
        fetched again since then (an index migration's catch-up pass)."""
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        last = None
        while True:
            q = select(posts).order_by(posts.c.id).limit(page_size)
            if fetched_since is not None:
                q = q.where(posts.c.last_fetched >= fetched_since)
            if last is not None:
                q = q.where(posts.c.id > last)
            with self._db.read() as conn:
                page = [post_from_row(r) for r in conn.execute(q)]
            yield from page
            if len(page) < page_size:
                return
            last = page[-1].id

    def post_versions(self, post_id: str) -> list[PostVersion]:
        if not findable(post_id):
            return []
        with self._db.read() as conn:
            rows = conn.execute(select(post_versions).where(post_versions.c.post_id == post_id)
                                .order_by(post_versions.c.version))
            return [PostVersion(r.post_id, r.version, r.title, r.text, r.content_sha256, r.fetched_at)
                    for r in rows]


def _change_post(conn: Connection, p: PostRecord, row, report: SaveReport) -> int:
    """Apply one fetch of a stored post: deleted upstream, unchanged, or a new version."""
    if p.deleted_upstream:
        # Gone upstream: keep the last text we saw, it is the evidence.
        conn.execute(update(posts).where(posts.c.id == p.id)
                     .values(deleted_upstream=True, last_fetched=p.fetched_at))
        report.deleted_post_ids.append(p.id)
        return row.version
    if row.version_hash == p.version_hash:
        conn.execute(update(posts).where(posts.c.id == p.id)
                     .values(last_fetched=p.fetched_at, deleted_upstream=False))
        report.unchanged_post_ids.append(p.id)
        return row.version
    version = row.version + 1
    conn.execute(update(posts).where(posts.c.id == p.id)
                 .values(post_values(p) | {"version": version, "indexed": False}))
    conn.execute(post_versions.insert().values(version_values(p, version)))
    report.edited_post_ids.append(p.id)
    return version
