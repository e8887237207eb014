"""What a source looked like at the end of the last pass, so the next pass fetches only what changed.

Kept in the workflow database (`Store.get_crawl_state` / `set_crawl_state`, key "incremental"),
so crawler processes on different hosts that share a database (and a Redis queue) share it too.
The runner writes it only after the pass's posts were ingested, so a crash between crawl and
ingest re-fetches rather than forgets.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from patrol.settings import Settings
from patrol.store import Store

KEY = "incremental"


class CrawlState:
    def __init__(self, store: Store):
        self.store = store

    @classmethod
    def open(cls, settings: Settings) -> "CrawlState":
        """The state in the configured workflow database; `close()` it when done."""
        return cls(Store(settings.resolved_database_url))

    def load(self, source_name: str) -> dict[str, Any]:
        data = self.store.get_crawl_state(source_name, KEY)
        # Anything else (a value written by hand) costs one full re-crawl of the source, never a failed pass.
        return data if isinstance(data, dict) else {}

    def save(self, source_name: str, data: dict[str, Any], now: datetime | None = None) -> None:
        self.store.set_crawl_state(source_name, KEY, data, now or datetime.now(timezone.utc))

    def close(self) -> None:
        self.store.close()
