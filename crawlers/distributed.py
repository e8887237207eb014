"""Several crawler processes on one source, through Redis (scrapy-redis), when PATROL_REDIS_URL is set.

What is shared, per source and per pass window:
  patrol:crawl:<source>:<window>:requests     the request queue every worker pops from
  patrol:crawl:<source>:<window>:dupefilter   fingerprints of requests already queued by anyone
  patrol:crawl:<source>:<window>:workers      who is working, so nobody quits while others still feed the queue
`<window>` is the number of whole source intervals since the epoch: workers started within the
same interval share one pass; the next interval starts a fresh queue and dupefilter, or nothing
would ever be fetched twice. Keys expire after two intervals, so a killed worker leaves no debris.

The dupefilter makes each page fetched by one worker; "each post stored exactly once" does not rest
on it (a window boundary or a retry can fetch a page twice): the store's post ids are deterministic
per (source, external_id), so a second copy of a post is "unchanged", never a second post.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time
from typing import Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.misc import load_object
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from patrol.settings import Settings

log = logging.getLogger(__name__)

KEY_PREFIX = "patrol:crawl"
# A worker that has neither popped a request nor gone idle for this long is taken for dead.
STALE_AFTER = 120.0
_BUSY_REFRESH = 2.0


def redis_scrapy_settings(settings: Settings, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Scrapy settings that put a crawl on the shared Redis queue (empty without redis_url)."""
    if not settings.redis_url:
        return {}
    extensions = dict((base or {}).get("EXTENSIONS") or {})
    return {
        "SCHEDULER": "crawlers.distributed.SourceScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        # One worker finishing must not wipe the queue the others are still working on; keys expire instead.
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": settings.redis_url,
        # Take from the shared queue only what can be downloaded now: a worker that prefetched 16
        # requests into its own downloader would leave nothing for the others to share.
        "CONCURRENT_REQUESTS": settings.crawl.concurrent_per_domain,
        "EXTENSIONS": extensions,
    }


def pass_window(interval_seconds: float, now: float | None = None) -> int:
    return int((now if now is not None else time.time()) // max(1.0, interval_seconds))


def source_keys(source_name: str, window: int) -> dict[str, str]:
    prefix = f"{KEY_PREFIX}:{source_name}:{window}"
    return {"requests": f"{prefix}:requests", "dupefilter": f"{prefix}:dupefilter", "workers": f"{prefix}:workers"}


class SourceScheduler(Scheduler):
    """scrapy-redis's scheduler with keys per source and pass window, and a shared notion of "done"."""

    @classmethod
    def from_crawler(cls, crawler):
        instance = super().from_crawler(crawler)
        crawler.signals.connect(instance.on_idle, signal=signals.spider_idle)
        return instance

    def open(self, spider):
        self.spider = spider
        source = getattr(spider, "source", None)
        name = getattr(spider, "source_name", spider.name)
        interval = source.interval_delta.total_seconds() if source is not None else 900.0
        self.keys = source_keys(name, pass_window(interval))
        self.ttl = int(max(2 * interval, 3600))
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{id(spider)}"
        self._busy_at = 0.0
        self.queue = load_object(self.queue_cls)(server=self.server, spider=spider, key=self.keys["requests"],
                                                 serializer=self.serializer)
        self.df = RFPDupeFilter(self.server, key=self.keys["dupefilter"], debug=spider.settings.getbool("DUPEFILTER_DEBUG"))
        self._announce("busy")
        if len(self.queue):
            log.info("%s: joining a pass in progress (%d requests queued)", name, len(self.queue))

    def close(self, reason):
        self.server.hdel(self.keys["workers"], self.worker)
        for key in self.keys.values():
            self.server.expire(key, self.ttl)

    def enqueue_request(self, request):
        added = super().enqueue_request(request)
        if added:
            pipe = self.server.pipeline()
            pipe.expire(self.keys["requests"], self.ttl)
            pipe.expire(self.keys["dupefilter"], self.ttl)
            pipe.execute()
        return added

    def next_request(self):
        request = super().next_request()
        if request is not None and time.time() - self._busy_at > _BUSY_REFRESH:
            self._announce("busy")
        return request

    def _announce(self, state: str) -> None:
        now = time.time()
        self.server.hset(self.keys["workers"], self.worker, json.dumps({"state": state, "at": now}))
        self.server.expire(self.keys["workers"], self.ttl)
        self._busy_at = now if state == "busy" else 0.0

    def others_busy(self) -> bool:
        now = time.time()
        for worker, raw in self.server.hgetall(self.keys["workers"]).items():
            worker = worker.decode() if isinstance(worker, bytes) else worker
            if worker == self.worker:
                continue
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if entry.get("state") == "busy" and now - float(entry.get("at", 0)) < STALE_AFTER:
                return True
        return False

    def on_idle(self, spider):
        """Stay while the queue has work or another worker may still add some; otherwise let go."""
        if len(self.queue):
            raise DontCloseSpider("requests still queued in Redis")
        self._announce("idle")
        if self.others_busy():
            raise DontCloseSpider("another worker is still crawling this source")
