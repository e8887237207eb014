"""Posts as collected (RawPost) and as stored (Post)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone


def post_id_for(source: str, external_id: str) -> str:
    """A stable id for a post: the same upstream post always gets the same id, across versions
    and across crawler processes, so re-crawling it can never create a second post."""
    return hashlib.sha256(f"{source}\x1f{external_id}".encode("utf-8")).hexdigest()[:24]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why no database can keep `value` as text, or None: PostgreSQL refuses NUL characters, and a
    lone surrogate (a JSON "\\ud800" escape) cannot be encoded as UTF-8 at all."""
    if "\x00" in value:
        return "contains a NUL character"
    if _SURROGATE.search(value):
        return "contains a lone surrogate (U+D800-U+DFFF), which is not text"
    return None


def storable_text(value: str) -> str:
    """`value` as every database keeps it: NUL characters dropped, lone surrogates made U+FFFD.
    Neither carries meaning in a post; the fetched bytes keep their own hash (content_sha256)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _SURROGATE.search(value):
        value = _SURROGATE.sub("\ufffd", value)
    return value


@dataclass(frozen=True)
class RawPost:
    """A post as a collector saw it.

    external_id: the upstream id (thread id + floor, status id, ...); the URL when there is none.
    content_sha256: SHA-256 of the bytes fetched for this post (the page or the API object).
    published_at / fetched_at: timezone-aware.
    thread_id: the upstream thread (Discuz tid, Discourse topic, Mastodon conversation) when the
        source shows one, else "". parent_external_id: the external id of the post this one
        replies to, when the source shows it, else "" (docs/EVIDENCE-AND-GROUPS.md).
    page_body: the fetched bytes whose SHA-256 is content_sha256, when the collector keeps them
        (the store keeps them compressed, once per hash, so both hashes can be re-checked); b""
        otherwise, e.g. for the other floors of a page already carried by its first floor.
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
    thread_id: str = ""
    parent_external_id: str = ""
    page_body: bytes = field(default=b"", repr=False, compare=False)

    def __post_init__(self) -> None:
        # Cleaned here, before anything derives from the text (the id, the analysis and its
        # offsets, the version hash), so that a stray NUL in a page cannot fail a whole batch on
        # PostgreSQL, and both backends store the same text.
        for name in ("source", "url", "external_id", "text", "title", "author", "thread_id",
                     "parent_external_id"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, storable_text(value))

    @property
    def id(self) -> str:
        return post_id_for(self.source, self.external_id)

    @property
    def parent_id(self) -> str | None:
        """The parent's post id (same source), or None for a post that answers nothing."""
        return post_id_for(self.source, self.parent_external_id) if self.parent_external_id else None

    @property
    def version_hash(self) -> str:
        """What makes an edit a new version: title and text, not the fetch."""
        return post_sha256(self.title, self.text)


def post_content_bytes(title: str, text: str) -> bytes:
    """The post's own content as bytes: title, U+001F, text, UTF-8. Its SHA-256 is the per-post
    hash shown beside the page's, and the evidence package ships these exact bytes (post.txt) so
    anyone can re-check it with sha256sum."""
    return f"{title}\x1f{text}".encode("utf-8")


def post_sha256(title: str, text: str) -> str:
    return sha256_hex(post_content_bytes(title, text))


def analysed_text(title: str, text: str) -> str:
    """The one string the analyzer sees for a post. Evidence offsets in an alert's analysis are
    offsets into this string, so the console highlights on it too."""
    return f"{title}\n{text}" if title else text
