"""Posts as collected (RawPost) and as stored (Post)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone


def post_id_for(source: str, external_id: str) -> str:
    """A stable id for a post: the same upstream post always gets the same id, across versions
    and across crawler processes, so re-crawling it can never create a second post."""
    return hashlib.sha256(f"{source}\x1f{external_id}".encode("utf-8")).hexdigest()[:24]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class RawPost:
    """A post as a collector saw it.

    external_id: the upstream id (thread id + floor, status id, ...); the URL when there is none.
    content_sha256: SHA-256 of the bytes fetched for this post (the page or the API object).
    published_at / fetched_at: timezone-aware.
    """

    source: str
    url: str
    external_id: str
    text: str
    title: str = ""
    author: str = ""
    published_at: datetime | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    content_sha256: str = ""
    deleted_upstream: bool = False

    @property
    def id(self) -> str:
        return post_id_for(self.source, self.external_id)

    @property
    def version_hash(self) -> str:
        """What makes an edit a new version: title and text, not the fetch."""
        return sha256_hex(f"{self.title}\x1f{self.text}".encode("utf-8"))


def analysed_text(title: str, text: str) -> str:
    """The one string the analyzer sees for a post. Evidence offsets in an alert's analysis are
    offsets into this string, so the console highlights on it too."""
    return f"{title}\n{text}" if title else text
