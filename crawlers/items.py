"""What a spider yields: one post as found on the page, before the core normalises it."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from patrol.posts import RawPost


@dataclass
class PostItem:
    """One upstream post.

    external_id: stable upstream id (Discuz: 'tid-pid'; feeds: the entry id or link).
    content_sha256: SHA-256 of the bytes fetched for this post (the page, or the feed entry).
    published_at: timezone-aware, or None when the page gives no usable time.
    thread_id / parent_external_id: the upstream thread and the external id of the post this one
    answers, where the source shows them ("" otherwise).
    page_body: the fetched bytes behind content_sha256, on one item per page (the store keeps it).
    """

    source: str
    url: str
    external_id: str
    body: str
    title: str = ""
    author: str = ""
    published_at: datetime | None = None
    content_sha256: str = ""
    deleted_upstream: bool = False
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    thread_id: str = ""
    parent_external_id: str = ""
    page_body: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        for name in ("published_at", "fetched_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                # A naive time is ambiguous by up to a day across time zones; refuse it at the source.
                raise ValueError(f"PostItem.{name} must be timezone-aware, got {value!r}")

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.external_id)

    def to_raw_post(self) -> RawPost:
        return RawPost(
            source=self.source,
            url=self.url,
            external_id=self.external_id,
            text=self.body,
            title=self.title,
            author=self.author,
            published_at=self.published_at,
            fetched_at=self.fetched_at,
            content_sha256=self.content_sha256,
            deleted_upstream=self.deleted_upstream,
            thread_id=self.thread_id,
            parent_external_id=self.parent_external_id,
            page_body=self.page_body,
        )

    def to_dict(self) -> dict:
        return asdict(self)
