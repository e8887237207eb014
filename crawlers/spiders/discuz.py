"""Discuz! X forums: list pages -> thread pages -> every floor (楼) of every page of a thread.

external_id is 'tid-pid'. Incremental: a thread whose reply count is unchanged since the last pass
is not fetched again. `max_pages` bounds the list pages of one pass and the pages of one thread.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from crawlers.dates import parse_forum_time
from crawlers.items import PostItem
from crawlers.page_text import visible_text
from crawlers.spiders.base import PageParseError, SourceSpider

_TBODY_ID = re.compile(r"^(?:normal|stick)thread_(\d+)$")
_POST_ID = re.compile(r"^post_(\d+)$")
_REWRITTEN_THREAD = re.compile(r"thread-(\d+)-\d+-\d+\.html")
# Discuz furniture inside a post body that is not the author's own words.
_NOT_THE_AUTHORS_WORDS = (
    "div.quote", "blockquote", ".jammer", "i.pstatus", "div.attach_nopermission",
    "ignore_js_op", "div.tip", "script",
)
_GONE_MARKERS = ("不存在或已被删除", "指定的主题不存在", "正在被审核")


def thread_id(url: str) -> int | None:
    query = parse_qs(urlsplit(url).query)
    if "tid" in query:
        try:
            return int(query["tid"][0])
        except ValueError:
            return None
    match = _REWRITTEN_THREAD.search(url)
    return int(match.group(1)) if match else None


class DiscuzSpider(SourceSpider):
    kind = "discuz"

    async def start(self):
        yield self.request(self.source.url, self.parse_list, meta={"list_page": 1})

    def parse_list(self, response):
        response = self.decoded(response)
        rows = [(tbody, _TBODY_ID.match(tbody.attrib.get("id", ""))) for tbody in response.css("tbody[id]")]
        rows = [(tbody, int(m.group(1))) for tbody, m in rows if m]
        if not rows:
            raise PageParseError("no thread rows (tbody#normalthread_N) on a forum list page")
        known = self.state_before.get("threads", {})
        threads = self.state_after.setdefault("threads", {})
        for tbody, tid in rows:
            href = tbody.css("a.xst::attr(href), a.s.xst::attr(href)").get()
            if not href:
                continue
            replies = tbody.css("td.num a::text").get()
            replies = int(replies) if replies and replies.strip().isdigit() else None
            if replies is not None and known.get(str(tid)) == replies:
                self.count("threads_unchanged")
                continue
            yield self.request(
                response.urljoin(href), self.parse_thread,
                meta={"tid": tid, "replies": replies, "thread_page": 1},
            )
        page = response.meta.get("list_page", 1)
        next_href = response.css("div.pg a.nxt::attr(href)").get()
        if next_href and page < self.source.max_pages:
            yield self.request(response.urljoin(next_href), self.parse_list, meta={"list_page": page + 1})
        # Threads are remembered only once fully read (see parse_thread); this keeps the key present.
        self.state_after["threads"] = threads

    def parse_thread(self, response):
        response = self.decoded(response)
        tid = response.meta.get("tid") or thread_id(response.url)
        page = response.meta.get("thread_page", 1)
        posts = [(div, _POST_ID.match(div.attrib.get("id", ""))) for div in response.css("div[id^=post_]")]
        posts = [(div, int(m.group(1))) for div, m in posts if m]
        if not posts:
            message = " ".join(response.css("#messagetext ::text").getall())
            if any(marker in message for marker in _GONE_MARKERS):
                self.count("threads_gone")
                return
            raise PageParseError(f"no posts (div#post_N) on thread page {page} of tid {tid}")
        title = visible_text(response.css("#thread_subject").get() or "")
        digest = self.sha256(response.body)
        fetched = self.fetched_at()
        # Every floor answers the thread's first floor (楼主); later pages learn its pid from meta.
        first_pid = response.meta.get("first_pid") or (posts[0][1] if page == 1 else None)
        page_kept = False
        for index, (div, pid) in enumerate(posts):
            try:
                item = self._floor(response, div, tid, pid, title if (page == 1 and index == 0) else "", digest, fetched)
            except PageParseError as error:
                self.record_parse_error(response, str(error))
                continue
            item.thread_id = str(tid)
            if first_pid is not None and pid != first_pid:
                item.parent_external_id = f"{tid}-{first_pid}"
            if not page_kept:  # the page once; its other floors share its hash
                item.page_body, page_kept = response.body, True
            yield item
        next_href = response.css("div.pg a.nxt::attr(href)").get()
        if next_href and page < self.source.max_pages:
            yield self.request(
                response.urljoin(next_href), self.parse_thread,
                meta={"tid": tid, "replies": response.meta.get("replies"), "thread_page": page + 1,
                      "first_pid": first_pid},
            )
        elif response.meta.get("replies") is not None:
            self.state_after.setdefault("threads", {})[str(tid)] = response.meta["replies"]

    def _floor(self, response, div, tid, pid, title, digest, fetched) -> PostItem:
        author = (
            div.css("td.pls .authi a::text").get()
            or div.css(".authi a.xw1::text").get()
            or div.css(".authi a::text").get()
            or ""
        ).strip()
        stamp = div.css(f"#authorposton{pid} span::attr(title)").get()
        if not stamp:
            stamp = " ".join(div.css(f"#authorposton{pid} ::text").getall())
        published = parse_forum_time(stamp, fetched, self.site_tz)
        body_html = div.css(f"#postmessage_{pid}").get()
        blocked = body_html is None and bool(div.css("div.locked"))
        if body_html is None and not blocked:
            raise PageParseError(f"post {pid} of tid {tid} has no message body (td#postmessage_{pid})")
        return PostItem(
            source=self.source_name,
            url=response.urljoin(f"forum.php?mod=redirect&goto=findpost&ptid={tid}&pid={pid}"),
            external_id=f"{tid}-{pid}",
            body="" if blocked else visible_text(body_html, _NOT_THE_AUTHORS_WORDS),
            title=title,
            author=author,
            published_at=published,
            content_sha256=digest,
            deleted_upstream=blocked,
            fetched_at=fetched,
        )
