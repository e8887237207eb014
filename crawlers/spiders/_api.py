"""What the wordpress, discourse, mastodon, html and sitemap spiders share on top of SourceSpider:
incremental state, JSON pages, the Link header, and failures counted by kind.

Error kinds (stats `patrol/errors/<kind>/<source>`, next to the base's http_errors/parse_errors):
  http_404, http_410, http_429, http_5xx, http_<code>   an answer that was not the page
  redirect_loop     a redirect back into its own chain (crawlers.redirects)
  robots            refused by robots.txt
  timeout           no answer within DOWNLOAD_TIMEOUT
  too_large         the download was cut at DOWNLOAD_MAXSIZE
  connection        refused, reset, DNS
  bad_json          an API answer that is not the JSON it should be
  malformed         a page or feed that parsed only partly (truncated XML, broken markup)
  charset           the declared charset did not fit the bytes and another one was used
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import datetime
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectError, DNSLookupError, TimeoutError as TxTimeoutError
from twisted.internet.defer import CancelledError

from crawlers.dates import parse_feed_time, parse_forum_time
from crawlers.incremental import Incremental
from crawlers.items import PostItem
from crawlers.redirects import PRIORITY as REDIRECT_LOOP_PRIORITY
from crawlers.spiders.base import PageParseError, SourceSpider

logger = logging.getLogger(__name__)

_LINK = re.compile(r'<\s*([^>]*)\s*>\s*((?:;\s*[^;,]+)*)')
_REL = re.compile(r'rel\s*=\s*"?([^";,]+)"?', re.I)
# Deleted upstream: the post is gone, not the server.
GONE_STATUSES = (404, 410)


def link_header(value: bytes | str | None) -> dict[str, str]:
    """RFC 8288 Link header -> {rel: url}; Mastodon pages its timelines with rel="next"/"prev"."""
    if not value:
        return {}
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    links: dict[str, str] = {}
    for match in _LINK.finditer(text):
        url, params = match.group(1).strip(), match.group(2)
        rel = _REL.search(params)
        if rel:
            for name in rel.group(1).split():
                links.setdefault(name.lower(), url)
    return links


def failure_kind(failure) -> str:
    if failure.check(HttpError):
        status = failure.value.response.status
        return "http_5xx" if 500 <= status < 600 else f"http_{status}"
    if failure.check(IgnoreRequest):
        text = str(failure.value).lower()
        if "redirect" in text:
            return "redirect_loop"
        return "robots" if "robots" in text else "ignored"
    if failure.check(TxTimeoutError) or "timeout" in type(failure.value).__name__.lower():
        return "timeout"
    if failure.check(CancelledError):
        return "too_large"
    if failure.check(ConnectError, DNSLookupError) or "connection" in type(failure.value).__name__.lower():
        return "connection"
    return type(failure.value).__name__.lower()


def object_bytes(obj: Any) -> bytes:
    """One API object, canonicalised (sorted keys, UTF-8): the bytes kept as its evidence."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True).encode("utf-8")


def object_sha256(obj: Any) -> str:
    """SHA-256 of one API object, canonicalised: a page of 50 posts is not any one post's evidence."""
    return hashlib.sha256(object_bytes(obj)).hexdigest()


class ApiSpider(SourceSpider):
    """SourceSpider with incremental state and failures counted by kind."""

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        # Merged into the project's middlewares, not replacing them (custom_settings would replace).
        middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
        middlewares.setdefault("crawlers.redirects.RedirectLoopMiddleware", REDIRECT_LOOP_PRIORITY)
        settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="spider")

    def __init__(self, source, state=None, **kwargs):
        super().__init__(source, state, **kwargs)
        self.inc = Incremental(self.state_before, self.state_after)

    # -- failures ---------------------------------------------------------------------------
    def count_error(self, kind: str) -> None:
        self.count(f"errors/{kind}")

    def on_request_error(self, failure):
        self.count_error(failure_kind(failure))
        return super().on_request_error(failure)

    def entry_request(self, url: str, callback, **kwargs):
        """The first page of a pass: asked conditionally, so an unchanged source costs one 304."""
        headers = {**self.inc.conditional_headers(url), **kwargs.pop("headers", {})}
        meta = {**kwargs.pop("meta", {}), "entry_url": url}
        meta["handle_httpstatus_list"] = [*meta.get("handle_httpstatus_list", ()), 304]
        return self.request(url, callback, headers=headers, meta=meta, **kwargs)

    def not_modified(self, response) -> bool:
        """True for a 304 (nothing new: the pass is done); remembers validators of a 200 entry page."""
        entry = response.meta.get("entry_url")
        if response.status == 304:
            self.count("not_modified")
            # Keep the validators that earned the 304, or the next pass would fetch in full.
            if entry and entry in (self.state_before.get("validators") or {}):
                self.state_after.setdefault("validators", {})[entry] = self.state_before["validators"][entry]
            return True
        if entry and response.status == 200:
            self.inc.remember_validators(entry, response.headers)
        return False

    def gone(self, external_id: str, status: int):
        """A detail page answered 404/410: the post was deleted upstream (for pages whose URL is
        their external id: html, sitemap)."""
        self.count_error(f"http_{status}")
        self.count("deleted_upstream")
        self.inc.done(external_id)
        if self.inc.seen_before(external_id):
            # Only a post read before can be marked: an unseen one has no evidence to keep.
            yield PostItem(source=self.source_name, url=external_id, external_id=external_id, body="",
                           deleted_upstream=True, fetched_at=self.fetched_at())

    # -- pages ------------------------------------------------------------------------------
    def json_of(self, response) -> Any:
        try:
            return json.loads(response.body.decode(response.encoding if hasattr(response, "encoding") else "utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            self.count_error("bad_json")
            raise PageParseError(f"expected JSON from {response.url}: {error}") from None

    def api_time(self, text: str | None) -> datetime | None:
        """An API's ISO 8601 time, or a page's printed one ("3 小时前" included), zone-aware."""
        return parse_feed_time(text, self.site_tz, self.fetched_at())

    def printed_time(self, text: str | None) -> datetime | None:
        return parse_forum_time(text, self.fetched_at(), self.site_tz) or parse_feed_time(text, self.site_tz)

    def pages_left(self, page: int) -> bool:
        """Within max_pages? When not, the pass stops early and says so: older posts may be missed."""
        if page < self.source.max_pages:
            return True
        self.count("max_pages_reached")
        return False


__all__ = ["ApiSpider", "GONE_STATUSES", "PageParseError", "failure_kind", "link_header", "object_sha256"]
