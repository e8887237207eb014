"""RawPost <-> JSON, for handing posts from the crawl process to the process that ingests them."""
from __future__ import annotations

import base64
import zlib
from datetime import datetime
from typing import Any

from patrol.posts import RawPost


def raw_post_to_dict(post: RawPost) -> dict[str, Any]:
    return {
        "source": post.source,
        "url": post.url,
        "external_id": post.external_id,
        "text": post.text,
        "title": post.title,
        "author": post.author,
        "published_at": post.published_at.isoformat() if post.published_at else None,
        "fetched_at": post.fetched_at.isoformat(),
        "content_sha256": post.content_sha256,
        "deleted_upstream": post.deleted_upstream,
        "thread_id": post.thread_id,
        "parent_external_id": post.parent_external_id,
        # The fetched page crosses the pipe compressed (a forum page is ~10x smaller).
        "page_z": base64.b64encode(zlib.compress(post.page_body, 6)).decode("ascii") if post.page_body else "",
    }


def raw_post_from_dict(data: dict[str, Any]) -> RawPost:
    published = data.get("published_at")
    return RawPost(
        source=data["source"],
        url=data["url"],
        external_id=data["external_id"],
        text=data.get("text", ""),
        title=data.get("title", ""),
        author=data.get("author", ""),
        published_at=datetime.fromisoformat(published) if published else None,
        fetched_at=datetime.fromisoformat(data["fetched_at"]),
        content_sha256=data.get("content_sha256", ""),
        deleted_upstream=bool(data.get("deleted_upstream", False)),
        thread_id=data.get("thread_id", ""),
        parent_external_id=data.get("parent_external_id", ""),
        page_body=zlib.decompress(base64.b64decode(data["page_z"])) if data.get("page_z") else b"",
    )
