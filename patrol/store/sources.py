"""Per source: the health counters of its crawl passes, and the crawl state kept between passes."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from patrol.store.database import Database
from patrol.store.engine import insert_ignore
from patrol.store.records import SourceHealth
from patrol.store.schema import crawl_state, source_health


class SourceRepository:
    def __init__(self, db: Database):
        self._db = db

    def record_source_pass(self, source: str, now: datetime, items: int,
                           errors: dict[str, int] | None = None, *, failed: bool = False) -> SourceHealth:
        """Record one crawl pass of a source. A pass with no items is empty, whatever the errors;
        `failed` (the source could not be crawled or nothing was fetched) counts apart, because a
        failed pass can still yield a few items. patrol.source_health decides on the counts."""
        if items < 0:
            raise ValueError(f"items of a pass cannot be negative, got {items}")
        errors = {str(k): int(v) for k, v in (errors or {}).items()}
        h = source_health.c
        with self._db.write() as conn:
            insert_ignore(conn, source_health, {"source": source, "items_last_pass": 0, "errors_last_pass": {},
                                                 "consecutive_empty": 0, "consecutive_failed": 0, "passes": 0})
            # One UPDATE computes every counter from the stored row: two crawlers finishing passes
            # of one source at once both count, with no read-modify-write between them.
            row = conn.execute(
                update(source_health).where(h.source == source).values(
                    last_pass_at=now, items_last_pass=items, errors_last_pass=errors,
                    consecutive_empty=h.consecutive_empty + 1 if items == 0 else 0,
                    consecutive_failed=h.consecutive_failed + 1 if failed else 0,
                    passes=h.passes + 1,
                    last_success_at=now if items > 0 else h.last_success_at,
                ).returning(*source_health.c)).one()
        return _health_from_row(row, errors)

    def source_health(self) -> list[SourceHealth]:
        with self._db.read() as conn:
            return [_health_from_row(r, dict(r.errors_last_pass))
                    for r in conn.execute(select(source_health).order_by(source_health.c.source))]

    def get_crawl_state(self, source: str, key: str) -> Any:
        with self._db.read() as conn:
            row = conn.execute(select(crawl_state.c.value).where(
                crawl_state.c.source == source, crawl_state.c.key == key)).first()
        return row.value if row else None

    def set_crawl_state(self, source: str, key: str, value: Any, now: datetime) -> None:
        with self._db.write() as conn:
            if not insert_ignore(conn, crawl_state, {"source": source, "key": key, "value": value, "updated_at": now}):
                conn.execute(update(crawl_state).where(crawl_state.c.source == source, crawl_state.c.key == key)
                             .values(value=value, updated_at=now))


def _health_from_row(r, errors: dict[str, int]) -> SourceHealth:
    return SourceHealth(r.source, r.last_pass_at, r.last_success_at, r.items_last_pass, errors,
                        r.consecutive_empty, r.passes, r.consecutive_failed)
