"""The SearchIndex interface and its values. Every implementation (sqlite_index, elastic_index)
runs the same contract suite in tests/search/test_index_contract.py."""
from __future__ import annotations

from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Iterator, Protocol, Sequence

from search.normalised import check_spans, combined


class SearchError(Exception):
    """Base of every error the index raises on purpose."""


class QuerySyntaxError(SearchError):
    """A malformed query. `position` is the 0-based character offset of the problem in the query."""

    def __init__(self, message: str, query: str, position: int):
        super().__init__(f"{message} at position {position}")
        self.message = message
        self.query = query
        self.position = position


class InvalidSearch(SearchError):
    """A request the index cannot answer as asked (a bad limit, a bad cursor); the message says why."""


class BadCursor(InvalidSearch):
    """A pagination cursor that was altered, truncated or belongs to another search."""


class IndexUnavailable(SearchError):
    """The index cannot be reached or opened. Callers keep the post and retry; nothing is lost."""


@dataclass(frozen=True)
class IndexedPost:
    """What the index stores for one post. `id` is Patrol's post id (stable across versions).

    published_at and fetched_at are timezone-aware. categories: the labels the classifier gave;
    primary: the primary category or "none". status: the alert status when an alert exists, else "".

    normalised: what the analyzer's normaliser made of the post (菠.菜 → 博彩, 薇信 → 微信), over the
    combined text `title + "\n" + text` (just `text` when there is no title; see
    search.normalised.combined); "" when it equals the original or is unknown. Searched beside the
    original, so the real word finds the evasive spelling.
    normalised_spans: the changed regions as (norm_start, norm_end, orig_start, orig_end), offsets
    into `normalised` and into the combined original, sorted and non-overlapping; everything
    between them is unchanged. They let highlights mark the original words a normalised match came
    from. Empty when `normalised` is empty or the map is unknown.
    """

    id: str
    source: str
    url: str
    title: str
    text: str
    author: str
    published_at: datetime
    fetched_at: datetime
    primary: str = "none"
    categories: tuple[str, ...] = ()
    status: str = ""
    normalised: str = ""
    normalised_spans: tuple[tuple[int, int, int, int], ...] = ()


def check_post(post: IndexedPost) -> None:
    """Refuses a post whose times are naive (the index would not know which instant they name) or
    whose normalised_spans do not fit its texts (highlights would mark the wrong words)."""
    for name in ("published_at", "fetched_at"):
        moment = getattr(post, name)
        if not isinstance(moment, datetime) or moment.utcoffset() is None:
            raise ValueError(f"post {post.id!r}: {name} must be a timezone-aware datetime, got {moment!r}")
    check_spans(post.id, combined(post.title, post.text), post.normalised, post.normalised_spans)


MAX_LIMIT = 1000


@dataclass(frozen=True)
class SearchQuery:
    """A search request. `q` is in the query language (search/README.md); the other fields
    are extra filters ANDed with it: published_from is inclusive, published_to exclusive.
    cursor: an opaque string from a previous SearchResult. limit: 1..MAX_LIMIT."""

    q: str = ""
    category: str | None = None
    source: str | None = None
    published_from: datetime | None = None
    published_to: datetime | None = None
    limit: int = 20
    cursor: str | None = None
    highlight: bool = True
    facets: bool = True


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    source: str
    url: str
    title: str
    published_at: datetime
    primary: str
    categories: tuple[str, ...]
    # Fragments of title/text with matched words wrapped in <mark>…</mark>; HTML-escaped otherwise.
    highlights: tuple[str, ...] = ()
    # True when some highlighted place matched only through the normalised text (the original spells
    # it differently: 菠.菜 for 博彩), so the console can say 匹配规范化文本.
    matched_normalised: bool = False


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: tuple[Hit, ...]
    # facet name ("category", "source") -> value -> count, over all matches (not just this page)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    next_cursor: str | None = None
    # "eq": `total` is exact; "gte": at least `total` match (Elasticsearch's hits.total.relation,
    # track_total_hits): totals are exact up to TOTAL_CAP, and front ends show "10,000+".
    total_relation: str = "eq"
    # True when the facet counts are estimates scaled up from a sample of the matches (TantivyIndex
    # past TOTAL_CAP: search/README.md "Totals and facets"); False when they count every match.
    facets_estimated: bool = False


TOTAL_CAP = 10_000  # Elasticsearch's default track_total_hits


class SearchIndex(Protocol):
    def add(self, posts: Sequence[IndexedPost]) -> None:
        """Insert or replace (same id) a batch of posts. Idempotent."""

    def get(self, post_id: str) -> IndexedPost | None: ...

    def search(self, query: SearchQuery) -> SearchResult:
        """Raises QuerySyntaxError for a malformed `q`, IndexUnavailable when the backend is down."""

    def set_status(self, post_id: str, status: str) -> None:
        """Record the alert status of a post, for `status:` filters."""

    def count(self) -> int: ...

    def identity(self) -> str | None:
        """The identity of the store this index was built from (None: never stamped);
        IndexUnavailable when the index went missing or was replaced by a foreign one."""

    def stamp(self, store_id: str) -> None: ...

    def expect_stamp(self, store_id: str | None) -> None:
        """The stamp a replacement of the index must carry for this process to follow it."""

    def remove(self, post_ids: Sequence[str]) -> int:
        """Drop these posts (purged by retention); returns how many were there."""

    def rebuild(self, batches: Iterable[Sequence[IndexedPost]], store_id: str) -> int:
        """Replace the whole content with `batches` and stamp it with `store_id`; returns the count."""

    def close(self) -> None: ...


@contextmanager
def bulk_writes(open_index: Callable[[], object], commit_every: int = 5_000) -> Iterator[None]:
    """`with bulk_writes(lambda: services.index): …` around a long series of add() calls (`patrol
    ingest`, `patrol reindex`): the index's bulk() when it has one (TantivyIndex: a commit, i.e.
    an fsync, every `commit_every` posts instead of one per add(); the writer lock let go at each
    commit, so a running `patrol serve` can still write an officer's decision), else nothing. An
    index that cannot be opened is left to the calls inside, which report it as they always did."""
    with ExitStack() as stack:
        try:
            bulk = getattr(open_index(), "bulk", None)
            if bulk is not None:
                stack.enter_context(bulk(commit_every=commit_every, hold_writer=False))
        except IndexUnavailable:
            pass
        yield
