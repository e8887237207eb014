"""Redirect loops, caught as loops.

Scrapy's dupefilter quietly drops a redirect back to a URL already requested, so a page that
redirects to itself simply vanishes from the pass. Here a redirect to the request's own URL or to
any URL earlier in its chain is refused as a redirect loop: the spider's errback sees it and
counts it for the source, like every other broken case.
"""
from __future__ import annotations

from urllib.parse import urljoin, urldefrag

from scrapy.exceptions import IgnoreRequest
from w3lib.url import safe_url_string

# Above RedirectMiddleware (600): process_response runs from the downloader inwards.
PRIORITY = 610


class RedirectLoop(IgnoreRequest):
    pass


class RedirectLoopMiddleware:
    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_response(self, request, response, spider=None):
        if response.status not in (301, 302, 303, 307, 308) or b"Location" not in response.headers:
            return response
        location = response.headers[b"Location"].decode("latin-1")
        target = urldefrag(safe_url_string(urljoin(request.url, location))).url
        chain = {urldefrag(u).url for u in request.meta.get("redirect_urls", ())} | {urldefrag(request.url).url}
        if target in chain:
            self.stats.inc_value("patrol/redirect_loops")
            raise RedirectLoop(f"redirect loop: {request.url} -> {target}")
        return response
