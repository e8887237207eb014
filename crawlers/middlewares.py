"""Scrapy middlewares: wait as a server asks (Retry-After) and count pages that fail to parse."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class RetryAfterMiddleware:
    """On 429/503 with Retry-After, pause before handing the response to RetryMiddleware.

    A server that says when to come back gets exactly that; the wait is capped so one hostile
    header cannot stall a pass (PATROL_RETRY_AFTER_MAX).
    """

    def __init__(self, cap: float, stats):
        self.cap = cap
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getfloat("PATROL_RETRY_AFTER_MAX", 120.0), crawler.stats)

    async def process_response(self, request, response, spider=None):
        if response.status not in (429, 503):
            return response
        delay = retry_after_seconds(response.headers.get("Retry-After"))
        if delay is None or delay <= 0:
            return response
        delay = min(delay, self.cap)
        self.stats.inc_value("patrol/retry_after_waits")
        # Imported here: importing the reactor at module load would install the wrong one.
        from twisted.internet import reactor

        await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return response


class ParseErrorMiddleware:
    """A callback that raises is one broken page, not a broken crawl: count it, log its URL, go on."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_spider_exception(self, response, exception):
        spider = self.crawler.spider
        source = getattr(spider, "source_name", spider.name)
        self.stats.inc_value(f"patrol/parse_errors/{source}")
        self.stats.inc_value("patrol/parse_errors")
        logger.warning("%s: could not parse %s: %s: %s", source, response.url, type(exception).__name__, exception)
        return []
