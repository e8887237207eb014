"""WordPress through its REST API: /wp-json/wp/v2/posts and /wp-json/wp/v2/comments.

Posts are read newest-modified first (`orderby=modified`), so an edit brings a post back to the
top of page 1 and is stored as a new version of the same post; paging stops at the first post the
last pass already saw, or at X-WP-TotalPages. Comments are read newest first the same way.
external_id: 'post-<id>' / 'comment-<id>'.
"""
from __future__ import annotations

from urllib.parse import urlencode

from crawlers.incremental import Incremental
from crawlers.items import PostItem
from crawlers.page_text import visible_text
from crawlers.spiders._api import ApiSpider, PageParseError, object_bytes, object_sha256

PER_PAGE = 50


def _rendered(obj, key: str) -> str:
    value = obj.get(key)
    if isinstance(value, dict):
        value = value.get("rendered")
    return value if isinstance(value, str) else ""



class WordpressSpider(ApiSpider):
    kind = "wordpress"

    def __init__(self, source, state=None, **kwargs):
        super().__init__(source, state, **kwargs)
        # Posts and comments are two streams with their own marks.
        self.posts = Incremental(self.state_before.get("posts") or {}, self.state_after.setdefault("posts", {}))
        self.comments = Incremental(self.state_before.get("comments") or {}, self.state_after.setdefault("comments", {}))

    def api_url(self, endpoint: str, page: int, **params) -> str:
        root = self.source.url.rstrip("/")
        query = urlencode({"per_page": PER_PAGE, "page": page, "order": "desc", **params})
        return f"{root}/wp-json/wp/v2/{endpoint}?{query}"

    def posts_url(self, page: int) -> str:
        return self.api_url("posts", page, orderby="modified", _embed="author")

    def comments_url(self, page: int) -> str:
        return self.api_url("comments", page, orderby="date_gmt")

    async def start(self):
        yield self.entry_request(self.posts_url(1), self.parse_posts, meta={"page": 1})
        yield self.entry_request(self.comments_url(1), self.parse_comments, meta={"page": 1})

    def _entries(self, response) -> list[dict]:
        data = self.json_of(response)
        if not isinstance(data, list):
            raise PageParseError(f"{response.url}: expected a JSON list of objects, got {type(data).__name__}")
        return [entry for entry in data if isinstance(entry, dict) and "id" in entry]

    def _more_pages(self, response, page: int, got: int) -> bool:
        total = response.headers.get(b"X-WP-TotalPages")
        if total is not None:
            try:
                return page < int(total)
            except ValueError:
                pass
        return got >= PER_PAGE

    def _time(self, obj, key: str):
        # *_gmt fields are UTC without a zone suffix; the plain ones are the site's local time.
        gmt = obj.get(f"{key}_gmt")
        return self.api_time(f"{gmt}+00:00") if gmt else self.api_time(obj.get(key))

    def parse_posts(self, response):
        if self.not_modified(response):
            return
        page = response.meta["page"]
        entries = self._entries(response)
        reached_known = False
        fetched = self.fetched_at()
        for post in entries:
            modified = self._time(post, "modified") or self._time(post, "date")
            if self.posts.is_known(modified):
                reached_known = True
                continue
            self.posts.advance(modified)
            authors = (post.get("_embedded") or {}).get("author") or [{}]
            yield PostItem(
                source=self.source_name,
                url=post.get("link") or response.url,
                external_id=f"post-{post['id']}",
                title=visible_text(_rendered(post, "title")),
                body=visible_text(_rendered(post, "content")),
                author=str(authors[0].get("name") or "") if isinstance(authors[0], dict) else "",
                published_at=self._time(post, "date"),
                content_sha256=object_sha256(post),
                page_body=object_bytes(post),
                thread_id=str(post["id"]),
                fetched_at=fetched,
            )
        if not reached_known and self._more_pages(response, page, len(entries)) and self.pages_left(page):
            yield self.request(self.posts_url(page + 1), self.parse_posts, meta={"page": page + 1})

    def parse_comments(self, response):
        if self.not_modified(response):
            return
        page = response.meta["page"]
        entries = self._entries(response)
        reached_known = False
        fetched = self.fetched_at()
        for comment in entries:
            published = self._time(comment, "date")
            if self.comments.is_known(published):
                reached_known = True
                continue
            self.comments.advance(published)
            if comment.get("status", "approved") != "approved":
                continue
            yield PostItem(
                source=self.source_name,
                url=comment.get("link") or response.url,
                external_id=f"comment-{comment['id']}",
                body=visible_text(_rendered(comment, "content")),
                author=str(comment.get("author_name") or ""),
                published_at=published,
                content_sha256=object_sha256(comment),
                page_body=object_bytes(comment),
                # A comment answers its parent comment, or else the post it is under.
                thread_id=str(comment.get("post") or ""),
                parent_external_id=(f"comment-{comment['parent']}" if comment.get("parent")
                                    else f"post-{comment['post']}" if comment.get("post") else ""),
                fetched_at=fetched,
            )
        if not reached_known and self._more_pages(response, page, len(entries)) and self.pages_left(page):
            yield self.request(self.comments_url(page + 1), self.parse_comments, meta={"page": page + 1})
