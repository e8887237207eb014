"""One spider class per source kind (the `kind:` of a source in sources.yaml, crawlers/README.md and crawlers/SOURCES.md)."""
from __future__ import annotations

from crawlers.spiders.base import PageParseError, SourceSpider
from crawlers.spiders.discourse import DiscourseSpider
from crawlers.spiders.discuz import DiscuzSpider
from crawlers.spiders.html import HtmlSpider
from crawlers.spiders.mastodon import MastodonSpider
from crawlers.spiders.rss import RssSpider
from crawlers.spiders.sitemap import SitemapSpider
from crawlers.spiders.wordpress import WordpressSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    cls.kind: cls
    for cls in (RssSpider, WordpressSpider, DiscourseSpider, MastodonSpider, DiscuzSpider, HtmlSpider, SitemapSpider)
}


__all__ = ["SPIDERS", "PageParseError", "SourceSpider"]
