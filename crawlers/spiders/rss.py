"""RSS 0.9x/1.0/2.0 and Atom feeds through feedparser.

Full text comes from content:encoded (or Atom content) when the feed carries it; otherwise the
linked article is fetched and its main text extracted with trafilatura. Incremental: the feed is
fetched with If-None-Match / If-Modified-Since and a 304 costs nothing.
"""
from __future__ import annotations

from datetime import datetime, timezone

import feedparser
import trafilatura

from crawlers.dates import parse_feed_time
from crawlers.items import PostItem
from crawlers.page_text import visible_text
from crawlers.spiders.base import PageParseError, SourceSpider


def _entry_time(entry, default_tz, now) -> datetime | None:
    for key in ("published", "updated", "created"):
        parsed = parse_feed_time(entry.get(key), default_tz, now)
        if parsed is not None:
            return parsed
    for key in ("published_parsed", "updated_parsed"):
        struct = entry.get(key)
        if struct:
            # feedparser's structs are already converted to UTC.
            return datetime(*struct[:6], tzinfo=timezone.utc)
    return None


def _entry_content(entry) -> str | None:
    """The longest full-text body the entry carries, as HTML, or None."""
    bodies = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
    return max(bodies, key=len) if bodies else None


class RssSpider(SourceSpider):
    kind = "rss"

    async def start(self):
        headers = {}
        if self.state_before.get("etag"):
            headers["If-None-Match"] = self.state_before["etag"]
        if self.state_before.get("last_modified"):
            headers["If-Modified-Since"] = self.state_before["last_modified"]
        yield self.request(
            self.source.url, self.parse_feed, headers=headers,
            meta={"feed_page": 1, "handle_httpstatus_list": [304]},
        )

    def parse_feed(self, response):
        if response.status == 304:
            self.count("not_modified")
            return
        headers = {"content-type": response.headers.get("Content-Type", b"").decode("latin-1")}
        feed = feedparser.parse(response.body, response_headers=headers)
        if not feed.entries:
            problem = feed.get("bozo_exception") or "no entries"
            raise PageParseError(f"not a readable feed: {problem}")
        if feed.get("bozo"):
            # A truncated or sloppy feed still gives the entries before the damage; keep them.
            self.record_parse_error(response, f"feed is malformed ({feed.get('bozo_exception')}); kept {len(feed.entries)} entries")
        elif response.meta.get("feed_page", 1) == 1:
            for header, key in ((b"ETag", "etag"), (b"Last-Modified", "last_modified")):
                value = response.headers.get(header)
                if value:
                    self.state_after[key] = value.decode("latin-1")
        fetched = self.fetched_at()
        for entry in feed.entries:
            link = response.urljoin(entry.get("link", "")) if entry.get("link") else ""
            external_id = entry.get("id") or link
            if not external_id:
                self.record_parse_error(response, f"entry {entry.get('title', '')!r} has neither id nor link")
                continue
            fields = {
                "source": self.source_name,
                "url": link or response.url,
                "external_id": external_id,
                "title": visible_text(entry.get("title", "")),
                "author": entry.get("author", ""),
                "published_at": _entry_time(entry, self.site_tz, fetched),
            }
            content = _entry_content(entry)
            if content:
                yield PostItem(body=visible_text(content), content_sha256=self.sha256(content.encode("utf-8")),
                               page_body=content.encode("utf-8"), fetched_at=fetched, **fields)
            elif link:
                summary = visible_text(entry.get("summary", ""))
                yield self.request(link, self.parse_article, errback=self.on_article_error,
                                   meta={"fields": fields, "summary": summary})
            else:
                summary = entry.get("summary", "")
                yield PostItem(body=visible_text(summary), content_sha256=self.sha256(summary.encode("utf-8")),
                               page_body=summary.encode("utf-8"), fetched_at=fetched, **fields)
        page = response.meta.get("feed_page", 1)
        next_links = [l.get("href") for l in feed.feed.get("links", []) if l.get("rel") == "next" and l.get("href")]
        if next_links and page < self.source.max_pages:
            yield self.request(response.urljoin(next_links[0]), self.parse_feed, meta={"feed_page": page + 1})

    def parse_article(self, response):
        response = self.decoded(response)
        fields = response.meta["fields"]
        text = trafilatura.extract(response.text, include_comments=False, include_tables=False,
                                   favor_precision=True, deduplicate=True) or ""
        if not text.strip():
            self.record_parse_error(response, "no main text found in the linked article; kept the feed summary")
            text = response.meta.get("summary", "")
        yield PostItem(body=text.strip(), content_sha256=self.sha256(response.body), page_body=response.body,
                       fetched_at=self.fetched_at(), **fields)

    def on_article_error(self, failure):
        """The article is gone or unreachable: count it, and keep the feed's summary rather than nothing."""
        self.on_request_error(failure)
        meta = failure.request.meta
        summary = meta.get("summary", "")
        if summary:
            yield PostItem(body=summary, content_sha256=self.sha256(summary.encode("utf-8")),
                           page_body=summary.encode("utf-8"), fetched_at=self.fetched_at(), **meta["fields"])
