"""Sitemaps and sitemap indexes; each listed page's main text by trafilatura.

Incremental: a URL (or a child sitemap) whose <lastmod> the last pass already reached is skipped;
a URL without lastmod is fetched once and then remembered. A changed lastmod brings the page back
as a new version of the same post. Sitemaps are parsed with recovery, so a truncated file still
gives the URLs before the damage (counted as malformed). `max_pages` bounds the sitemap files
read in one pass. Each pass re-reads the RECHECK most recently read pages, so a page taken down
(404/410) is marked deleted upstream. external_id: the page URL without its fragment.
"""
from __future__ import annotations

import zlib
from urllib.parse import urldefrag

import trafilatura
from lxml import etree

from crawlers.items import PostItem
from crawlers.spiders._api import GONE_STATUSES, ApiSpider, PageParseError

MAX_DEPTH = 3
# Recent pages are the ones still being edited or taken down; their lastmod is not always updated.
RECHECK = 10
# A gzip bomb must not get past DOWNLOAD_MAXSIZE by expanding after the download.
MAX_UNZIPPED = 64 * 1024 * 1024


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _gunzip(body: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data = inflater.decompress(body, MAX_UNZIPPED)
    if inflater.unconsumed_tail:
        raise PageParseError(f"sitemap expands beyond {MAX_UNZIPPED} bytes")
    return data


def parse_sitemap(body: bytes) -> tuple[str, list[tuple[str, str | None]], int]:
    """(root kind 'urlset' | 'sitemapindex', [(loc, lastmod)], number of XML errors recovered from)."""
    if body[:2] == b"\x1f\x8b":
        body = _gunzip(body)
    # No entities, no network: a sitemap is data from a stranger.
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)
    root = etree.fromstring(body, parser=parser) if body.strip() else None
    errors = len(parser.error_log)
    if root is None:
        raise PageParseError("not an XML sitemap")
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise PageParseError(f"root element <{kind}> is neither <urlset> nor <sitemapindex>")
    entries = []
    for node in root:
        if _local(node.tag) not in ("url", "sitemap"):
            continue
        fields = {_local(child.tag): (child.text or "").strip() for child in node}
        if fields.get("loc"):
            entries.append((fields["loc"], fields.get("lastmod") or None))
    if entries and not body.rstrip().endswith(f"</{kind}>".encode()):
        # Cut off mid-file: the last entry is where the cut fell, and its URL may be half a URL.
        entries.pop()
        errors = max(errors, 1)
    return kind, entries, errors


class SitemapSpider(ApiSpider):
    kind = "sitemap"

    async def start(self):
        for url in dict.fromkeys(self.inc.pending_retries() + self.inc.recent(RECHECK)):
            yield self.page_request(url, None)
        self.sitemaps_scheduled = 1
        yield self.entry_request(self.source.url, self.parse_sitemap_file, meta={"depth": 0})

    def page_request(self, url: str, lastmod):
        return self.request(url, self.parse_page, errback=self.on_page_error,
                            meta={"external_id": url, "lastmod": lastmod,
                                  "handle_httpstatus_list": list(GONE_STATUSES)})

    def parse_sitemap_file(self, response):
        if self.not_modified(response):
            return
        kind, entries, errors = parse_sitemap(response.body)
        if errors:
            self.count_error("malformed")
            self.record_parse_error(response, f"sitemap has {errors} XML error(s); kept {len(entries)} entries")
        depth = response.meta["depth"]
        for loc, lastmod_text in entries:
            url = urldefrag(response.urljoin(loc)).url
            lastmod = self.api_time(lastmod_text) if lastmod_text else None
            if kind == "sitemapindex":
                if self.inc.is_known(lastmod):
                    continue
                if depth + 1 > MAX_DEPTH:
                    self.record_parse_error(response, f"sitemap index nested deeper than {MAX_DEPTH}")
                    continue
                if not self.pages_left(self.sitemaps_scheduled):
                    return
                self.sitemaps_scheduled += 1
                yield self.entry_request(url, self.parse_sitemap_file, meta={"depth": depth + 1})
                continue
            if lastmod is not None:
                if self.inc.is_known(lastmod):
                    continue
                self.inc.advance(lastmod)
            elif self.inc.seen_before(url):
                continue
            yield self.page_request(url, lastmod_text)

    def parse_page(self, response):
        external_id = response.meta["external_id"]
        if response.status in GONE_STATUSES:
            yield from self.gone(external_id, response.status)
            return
        response = self.decoded(response)
        document = trafilatura.bare_extraction(response.text, url=response.url, with_metadata=True,
                                               include_comments=False, include_tables=False, favor_precision=True)
        text = (getattr(document, "text", None) or "").strip() if document is not None else ""
        if not text:
            raise PageParseError("no main text found")
        # The page's own author field before trafilatura's guess, which may keep a "记者" byline prefix.
        author = response.css("meta[name=author]::attr(content)").get() or getattr(document, "author", None) or ""
        lastmod = response.meta.get("lastmod")
        # The site's own lastmod beats trafilatura's date guess, which a "© 2026" footer can fool.
        published = self.api_time(lastmod) if lastmod else self.api_time(getattr(document, "date", None))
        self.inc.remember(external_id)
        self.inc.done(external_id)
        yield PostItem(
            source=self.source_name,
            url=response.url,
            external_id=external_id,
            title=(getattr(document, "title", None) or "").strip(),
            body=text,
            author=author.strip(),
            published_at=published,
            content_sha256=self.sha256(response.body),
            page_body=response.body,
            fetched_at=self.fetched_at(),
        )

    def on_page_error(self, failure):
        self.on_request_error(failure)
        self.inc.retry_later(failure.request.meta["external_id"])
