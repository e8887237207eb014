"""Mastodon public and hashtag timelines (/api/v1/timelines/public, /api/v1/timelines/tag/{tag}),
paged backwards in time by the Link header's rel="next".

Incremental: status ids are time-ordered snowflakes, so paging stops at the first id the last
pass reached. A boost is the boosted status itself (one post, however often it is boosted).
external_id: the status id on this instance. author: the handle as the instance shows it (@acct).
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from crawlers.items import PostItem
from crawlers.page_text import visible_text
from crawlers.spiders._api import ApiSpider, PageParseError, link_header, object_bytes, object_sha256

PAGE_SIZE = 40


def _status_number(status: dict) -> int | None:
    try:
        return int(status["id"])
    except (KeyError, TypeError, ValueError):
        return None


class MastodonSpider(ApiSpider):
    kind = "mastodon"

    def timeline_url(self) -> str:
        root = self.source.url.rstrip("/")
        query = urlencode({"limit": PAGE_SIZE})
        if self.source.tag:
            return f"{root}/api/v1/timelines/tag/{quote(self.source.tag.lstrip('#'), safe='')}?{query}"
        return f"{root}/api/v1/timelines/public?{query}"

    async def start(self):
        yield self.entry_request(self.timeline_url(), self.parse_timeline, meta={"page": 1})

    def parse_timeline(self, response):
        if self.not_modified(response):
            return
        statuses = self.json_of(response)
        if not isinstance(statuses, list):
            raise PageParseError(f"{response.url}: expected a JSON list of statuses, got {type(statuses).__name__}")
        reached_known = False
        fetched = self.fetched_at()
        for entry in statuses:
            number = _status_number(entry) if isinstance(entry, dict) else None
            if number is None:
                self.record_parse_error(response, "a status without a numeric id")
                continue
            if self.inc.is_known(number):
                reached_known = True
                continue
            self.inc.advance(number)
            status = entry.get("reblog") if isinstance(entry.get("reblog"), dict) else entry
            account = status.get("account") or {}
            body = visible_text(status.get("content") or "")
            descriptions = [m.get("description") for m in status.get("media_attachments") or () if isinstance(m, dict)]
            body = "\n".join([body, *[d for d in descriptions if d]]).strip()
            yield PostItem(
                source=self.source_name,
                url=status.get("url") or status.get("uri") or response.url,
                external_id=str(status.get("id")),
                title=status.get("spoiler_text") or "",
                body=body,
                author=f"@{account['acct']}" if account.get("acct") else "",
                published_at=self.api_time(status.get("created_at")),
                content_sha256=object_sha256(status),
                page_body=object_bytes(status),
                parent_external_id=str(status.get("in_reply_to_id") or ""),
                fetched_at=fetched,
            )
        page = response.meta["page"]
        following = link_header(response.headers.get(b"Link")).get("next")
        if statuses and following and not reached_known and self.pages_left(page):
            yield self.request(response.urljoin(following), self.parse_timeline, meta={"page": page + 1})
