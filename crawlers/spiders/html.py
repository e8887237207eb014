"""Any site described by selectors in sources.yaml: list pages -> detail pages, and a next page.

Selectors are CSS, or XPath when they start with '/' or '(' (crawlers/SOURCES.md). Inside a list item,
an XPath like '//a' is read relative to the item, which is what a person writing it means.
Incremental: detail URLs read in earlier passes are not fetched again, and paging stops at the
first list page whose items are all known. Deleted posts usually vanish from the list too, so each
pass also re-reads the RECHECK most recently read details: a 404/410 there marks the post deleted
upstream (its stored text stays as evidence), a changed page becomes a new version. A detail that
failed otherwise is fetched first next pass. external_id: the detail URL without its fragment.
"""
from __future__ import annotations

import re

from parsel import Selector, SelectorList
from urllib.parse import urldefrag

from crawlers.items import PostItem
from crawlers.page_text import visible_text
from crawlers.spiders._api import GONE_STATUSES, ApiSpider, PageParseError

_ROOTED_XPATH = re.compile(r"^(\(*)/")
# Recent posts are the ones still being edited or taken down.
RECHECK = 10


def is_xpath(expression: str) -> bool:
    return expression.lstrip().startswith(("/", "("))


def select(node: Selector, expression: str, relative: bool = False) -> SelectorList:
    expression = expression.strip()
    if is_xpath(expression):
        if relative:
            expression = _ROOTED_XPATH.sub(lambda m: m.group(1) + "./", expression, count=1)
        return node.xpath(expression)
    return node.css(expression)


def first_href(nodes: SelectorList) -> str | None:
    for node in nodes:
        root = node.root
        if isinstance(root, str):  # the selector already picked an attribute or text
            return root.strip() or None
        href = node.attrib.get("href")
        if href:
            return href.strip()
        inner = node.css("a::attr(href)").get()
        if inner:
            return inner.strip()
    return None


def element_text(nodes: SelectorList) -> str:
    parts = []
    for node in nodes:
        root = node.root
        parts.append(root.strip() if isinstance(root, str) else visible_text(root))
    return "\n".join(p for p in parts if p).strip()


class HtmlSpider(ApiSpider):
    kind = "html"

    @property
    def selectors(self) -> dict[str, str]:
        return self.source.selectors or {}

    async def start(self):
        for url in dict.fromkeys(self.inc.pending_retries() + self.inc.recent(RECHECK)):
            yield self.detail_request(url)
        yield self.entry_request(self.source.url, self.parse_list, meta={"page": 1})

    def detail_request(self, url: str):
        return self.request(
            url, self.parse_detail, errback=self.on_detail_error,
            meta={"external_id": url, "handle_httpstatus_list": list(GONE_STATUSES)},
        )

    def parse_list(self, response):
        if self.not_modified(response):
            return
        response = self.decoded(response)
        items = select(response.selector, self.selectors["item"])
        if not items:
            raise PageParseError(f"no list items match selector item={self.selectors['item']!r}")
        known = 0
        for item in items:
            href = first_href(select(item, self.selectors["link"], relative=True))
            if not href:
                self.record_parse_error(response, f"a list item without a link ({self.selectors['link']!r})")
                continue
            url = urldefrag(response.urljoin(href)).url
            if self.inc.seen_before(url):
                known += 1
                continue
            # The same detail URL on two list pages is one request: Scrapy's dupefilter drops the second.
            yield self.detail_request(url)
        page = response.meta["page"]
        if known == len(items):
            return
        next_expression = self.selectors.get("next")
        href = first_href(select(response.selector, next_expression)) if next_expression else None
        if href and self.pages_left(page):
            yield self.request(response.urljoin(href), self.parse_list, meta={"page": page + 1})

    def parse_detail(self, response):
        external_id = response.meta["external_id"]
        if response.status in GONE_STATUSES:
            yield from self.gone(external_id, response.status)
            return
        response = self.decoded(response)
        body = element_text(select(response.selector, self.selectors["body"]))
        if not body:
            raise PageParseError(f"no text in selector body={self.selectors['body']!r}")
        fields = {key: self._field(response, key) for key in ("title", "author")}
        self.inc.remember(external_id)
        self.inc.done(external_id)
        yield PostItem(
            source=self.source_name,
            url=response.url,
            external_id=external_id,
            body=body,
            published_at=self._published(response),
            content_sha256=self.sha256(response.body),
            page_body=response.body,
            fetched_at=self.fetched_at(),
            **fields,
        )

    def _field(self, response, key: str) -> str:
        expression = self.selectors.get(key)
        return element_text(select(response.selector, expression)).replace("\n", " ") if expression else ""

    def _published(self, response):
        expression = self.selectors.get("published")
        if not expression:
            return None
        nodes = select(response.selector, expression)
        stamp = nodes.attrib.get("datetime") if nodes and not isinstance(nodes[0].root, str) else None
        if stamp:
            return self.api_time(stamp)
        return self.printed_time(element_text(nodes))

    def on_detail_error(self, failure):
        self.on_request_error(failure)
        self.inc.retry_later(failure.request.meta["external_id"])
