"""Discourse forums: /latest.json lists topics by last activity; /t/{id}.json gives a topic with
its first posts and the ids of all of them; /t/{id}/posts.json?post_ids[]=… fetches the rest.

Incremental: a topic whose bumped_at the last pass already reached is not opened again, and
paging /latest stops at the first such topic. Inside a re-opened topic only posts created or
edited since then are yielded (an edit comes back as a new version of the same post). A topic
whose fetch failed is remembered and fetched first next pass. external_id: the post id, which is
unique across the whole forum.
"""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from crawlers.items import PostItem
from crawlers.page_text import visible_text
from crawlers.spiders._api import GONE_STATUSES, ApiSpider, PageParseError, object_bytes, object_sha256

POSTS_PER_REQUEST = 20
# Discourse wraps quoted posts in <aside class="quote">: someone else's words, not this author's.
_NOT_THE_AUTHORS_WORDS = ("aside.quote", "div.quote-controls", "span.mention-count")


def _json_path(url: str) -> str:
    """Discourse's more_topics_url is the HTML route (/latest?page=1); the JSON one adds .json."""
    parts = urlsplit(url)
    path = parts.path if parts.path.endswith(".json") else parts.path.rstrip("/") + ".json"
    return urlunsplit(parts._replace(path=path))


class DiscourseSpider(ApiSpider):
    kind = "discourse"

    @property
    def root(self) -> str:
        return self.source.url.rstrip("/")

    async def start(self):
        for key in self.inc.pending_retries():
            if key.startswith("topic:"):
                yield self.topic_request(int(key.split(":", 1)[1]), "", None)
        yield self.entry_request(f"{self.root}/latest.json", self.parse_latest, meta={"page": 1})

    def topic_request(self, topic_id: int, title: str, slug: str | None):
        return self.request(
            f"{self.root}/t/{topic_id}.json", self.parse_topic, errback=self.on_topic_error,
            meta={"topic_id": topic_id, "title": title, "slug": slug},
        )

    def parse_latest(self, response):
        if self.not_modified(response):
            return
        data = self.json_of(response)
        topic_list = data.get("topic_list") if isinstance(data, dict) else None
        if not isinstance(topic_list, dict) or not isinstance(topic_list.get("topics"), list):
            raise PageParseError(f"{response.url}: no topic_list.topics")
        reached_known = False
        for topic in topic_list["topics"]:
            if not isinstance(topic, dict) or "id" not in topic:
                continue
            bumped = self.api_time(topic.get("bumped_at") or topic.get("last_posted_at") or topic.get("created_at"))
            if self.inc.is_known(bumped):
                # Pinned topics sit on top whatever their age: they do not mean the rest is known.
                if not topic.get("pinned"):
                    reached_known = True
                continue
            self.inc.advance(bumped)
            yield self.topic_request(int(topic["id"]), topic.get("title") or "", topic.get("slug"))
        page = response.meta["page"]
        more = topic_list.get("more_topics_url")
        if more and not reached_known and self.pages_left(page):
            yield self.request(_json_path(response.urljoin(more)), self.parse_latest, meta={"page": page + 1})

    def parse_topic(self, response):
        topic_id = response.meta["topic_id"]
        data = self.json_of(response)
        stream = data.get("post_stream") if isinstance(data, dict) else None
        if not isinstance(stream, dict) or not isinstance(stream.get("posts"), list):
            raise PageParseError(f"{response.url}: no post_stream.posts")
        title = data.get("title") or response.meta.get("title") or ""
        slug = data.get("slug") or response.meta.get("slug") or "topic"
        loaded = set()
        for post in stream["posts"]:
            if isinstance(post, dict) and "id" in post:
                loaded.add(post["id"])
                item = self._post_item(post, topic_id, title, slug)
                if item is not None:
                    yield item
        missing = [pid for pid in stream.get("stream") or () if pid not in loaded]
        for start in range(0, len(missing), POSTS_PER_REQUEST):
            chunk = missing[start:start + POSTS_PER_REQUEST]
            query = urlencode([("post_ids[]", pid) for pid in chunk])
            yield self.request(
                f"{self.root}/t/{topic_id}/posts.json?{query}", self.parse_more_posts,
                errback=self.on_topic_error, meta={"topic_id": topic_id, "title": title, "slug": slug},
            )
        self.inc.done(f"topic:{topic_id}")

    def parse_more_posts(self, response):
        data = self.json_of(response)
        posts = ((data or {}).get("post_stream") or {}).get("posts") if isinstance(data, dict) else None
        if not isinstance(posts, list):
            raise PageParseError(f"{response.url}: no post_stream.posts")
        for post in posts:
            if isinstance(post, dict) and "id" in post:
                item = self._post_item(post, response.meta["topic_id"], response.meta["title"], response.meta["slug"])
                if item is not None:
                    yield item

    def _post_item(self, post: dict, topic_id: int, title: str, slug: str) -> PostItem | None:
        created = self.api_time(post.get("created_at"))
        changed = self.api_time(post.get("updated_at")) or created
        if self.inc.is_known(changed):
            return None
        number = post.get("post_number") or 1
        deleted = bool(post.get("deleted_at") or post.get("user_deleted"))
        return PostItem(
            source=self.source_name,
            url=f"{self.root}/t/{slug}/{topic_id}/{number}",
            external_id=str(post["id"]),
            title=title if number == 1 else "",
            body="" if deleted else visible_text(post.get("cooked") or "", _NOT_THE_AUTHORS_WORDS),
            author=str(post.get("username") or ""),
            published_at=created,
            content_sha256=object_sha256(post),
            page_body=object_bytes(post),
            thread_id=str(topic_id),
            deleted_upstream=deleted,
            fetched_at=self.fetched_at(),
        )

    def on_topic_error(self, failure):
        self.on_request_error(failure)
        topic_id = failure.request.meta["topic_id"]
        response = getattr(failure.value, "response", None)
        if response is not None and response.status in GONE_STATUSES:
            # Gone upstream: nothing to retry. Posts already stored keep their text as evidence.
            self.count("deleted_upstream")
            self.inc.done(f"topic:{topic_id}")
        else:
            self.inc.retry_later(f"topic:{topic_id}")
