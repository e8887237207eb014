"""What every source spider shares: its Source, its incremental state, and error accounting."""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timezone
from typing import Any, ClassVar

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from crawlers.dates import SHANGHAI
from crawlers.charset import decode_best
from crawlers.sources import Source

logger = logging.getLogger(__name__)


class PageParseError(Exception):
    """A page arrived but does not have the structure the spider expects."""


class SourceSpider(scrapy.Spider):
    """Base of the per-kind spiders. Subclasses only extract; they yield PostItems and requests.

    state_before: what the last successful pass left (read-only);
    state_after: what this pass learned, handed back to the runner when the spider closes.
    """

    kind: ClassVar[str] = ""

    def __init__(self, source: Source | dict, state: dict[str, Any] | None = None, **kwargs):
        source = source if isinstance(source, Source) else Source.model_validate(source)
        super().__init__(name=f"{self.kind}:{source.name}", **kwargs)
        self.source = source
        self.source_name = source.name
        self.state_before: dict[str, Any] = dict(state or {})
        self.state_after: dict[str, Any] = dict(state or {})
        self.site_tz = SHANGHAI

    # Requests -----------------------------------------------------------------------------
    def request(self, url: str, callback, **kwargs) -> scrapy.Request:
        kwargs.setdefault("errback", self.on_request_error)
        return scrapy.Request(url, callback=callback, **kwargs)

    def on_request_error(self, failure):
        request = failure.request
        stats = self.crawler.stats
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            stats.inc_value(f"patrol/skipped/{self.source_name}")
            logger.info("%s: skipped %s: %s", self.source_name, request.url, failure.value)
            return
        stats.inc_value(f"patrol/http_errors/{self.source_name}")
        if failure.check(HttpError):
            reason = f"HTTP {failure.value.response.status}"
        else:
            reason = f"{type(failure.value).__name__}: {failure.value}"
        logger.warning("%s: could not fetch %s: %s", self.source_name, request.url, reason)

    # Helpers for subclasses ---------------------------------------------------------------
    def decoded(self, response):
        """The response in the charset its bytes fit (GBK, Big5 or UTF-8, whatever it declares),
        or the one sources.yaml forces; a re-decoded page is counted as a charset error."""
        fixed = decode_best(response, self.source.overrides.encoding)
        if fixed is not response:
            self.count("errors/charset")
        return fixed

    @staticmethod
    def fetched_at() -> datetime:
        return datetime.now(timezone.utc)

    @staticmethod
    def sha256(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def record_parse_error(self, response, reason: str) -> None:
        """For a part of a page that fails while the rest is usable; whole pages raise instead."""
        self.crawler.stats.inc_value(f"patrol/parse_errors/{self.source_name}")
        self.crawler.stats.inc_value("patrol/parse_errors")
        logger.warning("%s: could not parse part of %s: %s", self.source_name, response.url, reason)

    def count(self, key: str, amount: int = 1) -> None:
        self.crawler.stats.inc_value(f"patrol/{key}/{self.source_name}", amount)
