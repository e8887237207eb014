"""The values the store takes and returns, and the errors it raises on purpose."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from patrol.alerts import Alert
from patrol.audit import AuditEvent
from patrol.posts import RawPost, post_sha256


class StoreError(Exception):
    """Base of the errors the store raises on purpose."""


class NotFound(StoreError, KeyError):
    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "not found"


class UserExists(StoreError):
    pass


class StoreUnavailable(StoreError):
    """The database cannot be reached or written now (locked, down, disk full); nothing of the
    refused call was written, so the same call can be made again later."""


class InvalidFilter(StoreError, ValueError):
    """A bad AlertFilter value or cursor; says which field and why."""


@dataclass(frozen=True)
class PostRecord:
    """A post as the store keeps it: the latest version, with its analysis.

    fetched_at is the last fetch; first_seen is set by the store on first insert. `version` is
    the store's count of distinct (title, text) versions, starting at 1.
    """

    id: str
    source: str
    external_id: str
    url: str
    title: str
    text: str
    author: str = ""
    published_at: datetime | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    content_sha256: str = ""
    deleted_upstream: bool = False
    analysis: dict[str, Any] | None = None
    primary: str = "none"
    labels: tuple[str, ...] = ()
    version: int = 1
    first_seen: datetime | None = None
    indexed: bool = False
    # Where the post sits in its thread (RawPost's thread_id; parent_id is the parent's post id).
    thread_id: str = ""
    parent_id: str | None = None
    # The fetched bytes behind content_sha256, to keep (never read back into a record).
    page_body: bytes = field(default=b"", repr=False, compare=False)

    @property
    def version_hash(self) -> str:
        # Same formula as RawPost.version_hash: an edit is a change of title or text.
        return post_sha256(self.title, self.text)

    @classmethod
    def from_raw(cls, raw: RawPost, analysis: Any = None) -> "PostRecord":
        """`analysis`: an nlp.analysis.Analysis (or its dict form), or None when not analysed."""
        data = analysis.to_dict() if hasattr(analysis, "to_dict") else analysis
        return cls(
            id=raw.id, source=raw.source, external_id=raw.external_id, url=raw.url, title=raw.title,
            text=raw.text, author=raw.author, published_at=raw.published_at, fetched_at=raw.fetched_at,
            content_sha256=raw.content_sha256, deleted_upstream=raw.deleted_upstream, analysis=data,
            primary=(data or {}).get("primary", "none"), labels=tuple((data or {}).get("labels", ())),
            thread_id=raw.thread_id, parent_id=raw.parent_id, page_body=raw.page_body,
        )


@dataclass(frozen=True)
class ThreadContext:
    """What the crawl collected around a post: the post it answers, the posts answering it, and
    the rest of its thread nearest in time (each list oldest first)."""

    parent: PostRecord | None = None
    replies: tuple[PostRecord, ...] = ()
    thread: tuple[PostRecord, ...] = ()


@dataclass(frozen=True)
class PostVersion:
    post_id: str
    version: int
    title: str
    text: str
    content_sha256: str
    fetched_at: datetime


@dataclass(frozen=True)
class SaveReport:
    new_post_ids: list[str] = field(default_factory=list)
    edited_post_ids: list[str] = field(default_factory=list)
    unchanged_post_ids: list[str] = field(default_factory=list)
    deleted_post_ids: list[str] = field(default_factory=list)
    opened_alert_ids: list[str] = field(default_factory=list)
    # Alerts not opened because the post already has one (or the source an active ops alert).
    skipped_alert_ids: list[str] = field(default_factory=list)

    @property
    def changed_post_ids(self) -> list[str]:
        """Posts the search index must (re)index."""
        return self.new_post_ids + self.edited_post_ids


@dataclass(frozen=True)
class AlertFilter:
    status: str | tuple[str, ...] | None = None
    category: str | None = None
    severity: str | None = None
    source: str | None = None
    assignee: str | None = None
    q: str | None = None  # case-insensitive substring of title or text
    opened_from: datetime | None = None  # inclusive
    opened_to: datetime | None = None  # exclusive
    sort: str = "severity_then_due"  # severity_then_due | newest | oldest | due
    cursor: str | None = None
    limit: int = 50
    # Grouped members stay out of the queue (their lead stands for them) unless asked for, or
    # unless `q` searches for words.
    members: bool = False


@dataclass(frozen=True)
class AlertPage:
    items: list[Alert]
    next_cursor: str | None


@dataclass(frozen=True)
class QueueCounts:
    """The queue's counts of cases (a group's members are counted in their lead's group_size):
    by status, by severity, and the overdue active ones."""

    by_status: dict[str, int]
    by_severity: dict[str, int]
    overdue: int


@dataclass(frozen=True)
class Note:
    id: int
    alert_id: str
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class AlertDetail:
    alert: Alert
    notes: list[Note]
    history: list[AuditEvent]
    overdue: bool


@dataclass(frozen=True)
class BulkOutcome:
    alert_id: str
    ok: bool
    status: str | None = None
    error: str | None = None
    # The refusal itself, for adapters that word it in their own language (the console).
    problem: Exception | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class LabelExample:
    """A reviewed alert as a training label: the post text, the category, and what the reviewer said."""

    alert_id: str
    post_id: str
    source: str
    title: str
    text: str
    category: str
    labels: tuple[str, ...]
    decision: str  # confirm | dismiss
    outcome: str  # the disposition or the dismiss reason
    decided_at: datetime
    model_version: str


@dataclass(frozen=True)
class SourceHealth:
    source: str
    last_pass_at: datetime | None
    last_success_at: datetime | None
    items_last_pass: int
    errors_last_pass: dict[str, int]
    consecutive_empty: int
    passes: int
    consecutive_failed: int = 0
