"""One spider class per source kind. The next kinds (wordpress, discourse, mastodon, html, sitemap)
register here the same way."""
from __future__ import annotations

from crawlers.spiders.base import PageParseError, SourceSpider
from crawlers.spiders.discuz import DiscuzSpider
from crawlers.spiders.rss import RssSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    DiscuzSpider.kind: DiscuzSpider,
    RssSpider.kind: RssSpider,
}


def spider_for(kind: str) -> type[SourceSpider] | None:
    return SPIDERS.get(kind)


__all__ = ["SPIDERS", "PageParseError", "SourceSpider", "spider_for"]
