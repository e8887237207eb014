"""The fetched pages behind posts' content_sha256, kept compressed so the hashes can be re-checked.

A page is kept once per SHA-256 (the floors of one forum page share it), zlib-compressed, and
only when its bytes really hash to the hash the post carries: a page that does not match is a
collector's bug, refused with the post named. Retention (`purge_before`) drops pages fetched
before a cutoff, except those an active alert still needs as evidence.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from patrol.alerts import ACTIVE_STATUSES
from patrol.posts import sha256_hex
from patrol.store.database import Database, findable
from patrol.store.engine import insert_ignore_stmt
from patrol.store.records import PostRecord
from patrol.store.schema import alerts, fetched_pages


@dataclass(frozen=True)
class KeptPage:
    sha256: str
    source: str
    url: str
    fetched_at: datetime
    body: bytes

    @property
    def intact(self) -> bool:
        """The kept bytes still hash to the hash they were kept under."""
        return sha256_hex(self.body) == self.sha256


class PageRepository:
    def __init__(self, db: Database):
        self._db = db

    def keep(self, conn: Connection, posts_in: Sequence[PostRecord]) -> int:
        """Keep the pages these posts carry, inside the caller's transaction (one multi-row insert
        for the batch); returns how many were new."""
        rows: dict[str, dict] = {}
        for p in posts_in:
            if not p.page_body or p.content_sha256 in rows:
                continue
            if sha256_hex(p.page_body) != p.content_sha256:
                raise ValueError(f"post {p.id} ({p.source} {p.external_id}): the page it carries does not "
                                 f"hash to its content_sha256 {p.content_sha256!r}")
            rows[p.content_sha256] = {
                "sha256": p.content_sha256, "source": p.source, "url": p.url, "fetched_at": p.fetched_at,
                "size": len(p.page_body), "body_z": zlib.compress(p.page_body, 6),
            }
        if not rows:
            return 0
        stmt = insert_ignore_stmt(conn, fetched_pages).returning(fetched_pages.c.sha256)
        return len(conn.execute(stmt, list(rows.values())).all())

    def get(self, sha256: str) -> KeptPage | None:
        if not sha256 or not findable(sha256):
            return None
        with self._db.read() as conn:
            row = conn.execute(select(fetched_pages).where(fetched_pages.c.sha256 == sha256)).first()
        if row is None:
            return None
        return KeptPage(row.sha256, row.source, row.url, row.fetched_at, zlib.decompress(row.body_z))

    def purge_before(self, cutoff: datetime) -> int:
        """Drop pages fetched before `cutoff` that no active alert points at; returns how many."""
        needed = select(alerts.c.content_sha256).where(alerts.c.status.in_(ACTIVE_STATUSES))
        with self._db.write() as conn:
            result = conn.execute(delete(fetched_pages).where(
                fetched_pages.c.fetched_at < cutoff, fetched_pages.c.sha256.not_in(needed)))
            return result.rowcount or 0
