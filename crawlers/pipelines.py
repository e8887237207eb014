"""Item pipelines, one job each: drop repeats within a run; hand batches of RawPosts to ingest."""
from __future__ import annotations

import logging
from typing import Callable

from scrapy.exceptions import DropItem

from crawlers.items import PostItem
from patrol.posts import RawPost

logger = logging.getLogger(__name__)

IngestCallable = Callable[[list[RawPost]], object]


class DuplicateFilterPipeline:
    """The same upstream post twice in one pass (a thread listed on two pages while it is bumped,
    a feed entry repeated) is one post."""

    def __init__(self, stats):
        self.stats = stats
        self.seen: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item: PostItem, spider=None):
        if item.key in self.seen:
            self.stats.inc_value("patrol/duplicates_dropped")
            raise DropItem(f"repeat of {item.source} {item.external_id}")
        self.seen.add(item.key)
        return item


class IngestPipeline:
    """Turns items into RawPosts and calls the crawler's ingest callable once per batch.

    The callable is attached by the runner as `crawler.patrol_ingest`, not through Scrapy settings:
    settings are deep-copied per crawler, and a copied Ingestor would be a second database session.
    """

    def __init__(self, ingest: IngestCallable, batch_size: int, stats):
        if batch_size < 1:
            raise ValueError("ingest batch size must be at least 1")
        self.ingest = ingest
        self.batch_size = batch_size
        self.stats = stats
        self.batch: list[RawPost] = []

    @classmethod
    def from_crawler(cls, crawler):
        ingest = getattr(crawler, "patrol_ingest", None)
        if ingest is None:
            raise RuntimeError("IngestPipeline needs crawler.patrol_ingest (set by crawlers.runner)")
        return cls(ingest, crawler.settings.getint("PATROL_INGEST_BATCH_SIZE", 64), crawler.stats)

    def process_item(self, item: PostItem, spider=None):
        self.batch.append(item.to_raw_post())
        self.stats.inc_value("patrol/items")
        if len(self.batch) >= self.batch_size:
            self.flush()
        return item

    def close_spider(self, spider=None):
        self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        self.ingest(batch)
        self.stats.inc_value("patrol/ingested", len(batch))
        self.stats.inc_value("patrol/ingest_batches")
