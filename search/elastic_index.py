"""The post index on Elasticsearch, with the behaviour of SqliteIndex (same contract suite).

Documents carry the same pre-segmented tokens as the SQLite index: words in `title_tokens`/
`body_tokens`, sub-word parts in `title_parts`/`body_parts`, those of the normalised text in
`norm_tokens`/`norm_parts`, analysed only by splitting on whitespace, so a query finds the same
posts on both backends no matter which analysis plugins the cluster has. Original title and text are stored unindexed for
display and highlighting (done in Python, see search/highlight.py).

Not run against a live cluster on the development machine (none can be installed there); the
contract suite runs against one when PATROL_TEST_ES_URL is set.
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from search import cursor as cursors
from search.elastic_query import search_query
from search.highlight import Highlights, highlight
from search.index import (
    MAX_LIMIT,
    BadCursor,
    Hit,
    IndexedPost,
    IndexUnavailable,
    InvalidSearch,
    SearchError,
    SearchQuery,
    SearchResult,
    check_post,
)
from search.normalised import searchable
from search.query import parse
from search.times import epoch_us
from search.tokens import DEFAULT_SEGMENTER, Segmenter

FACET_SIZE = 200

SETTINGS = {
    "analysis": {"analyzer": {"patrol_tokens": {"type": "custom", "tokenizer": "whitespace"}}},
}
MAPPINGS = {
    "dynamic": "strict",
    # The token fields are derived; keeping them out of _source halves the stored size.
    "_source": {"excludes": ["title_tokens", "body_tokens", "title_parts", "body_parts", "norm_tokens", "norm_parts"]},
    "properties": {
        "id": {"type": "keyword"},
        "source": {"type": "keyword"},
        "url": {"type": "keyword", "index": False, "doc_values": False},
        "title": {"type": "text", "index": False},
        "text": {"type": "text", "index": False},
        "author": {"type": "keyword"},
        "published_at": {"type": "keyword", "index": False, "doc_values": False},  # ISO, offset kept
        "published_us": {"type": "long"},
        "fetched_at": {"type": "keyword", "index": False, "doc_values": False},
        "primary": {"type": "keyword"},
        "categories": {"type": "keyword"},
        "status": {"type": "keyword"},
        "title_tokens": {"type": "text", "analyzer": "patrol_tokens"},
        "body_tokens": {"type": "text", "analyzer": "patrol_tokens"},
        "title_parts": {"type": "text", "analyzer": "patrol_tokens"},
        "body_parts": {"type": "text", "analyzer": "patrol_tokens"},
        "norm_tokens": {"type": "text", "analyzer": "patrol_tokens"},
        "norm_parts": {"type": "text", "analyzer": "patrol_tokens"},
        "normalised": {"type": "text", "index": False},
        # (norm_start, norm_end, orig_start, orig_end) quadruples, flattened: stored for highlights only.
        "normalised_spans": {"type": "integer", "index": False, "doc_values": False},
    },
}
_SORT = [{"_score": "desc"}, {"published_us": "desc"}, {"id": "asc"}]


class ElasticIndex:
    def __init__(self, url: str, index_name: str, *, refresh: bool | str = "wait_for",
                 segmenter: Segmenter = DEFAULT_SEGMENTER, request_timeout: float = 10.0):
        """`refresh`: when writes become searchable. "wait_for" (default) gives the SQLite index's
        read-your-writes at the cost of up to a refresh interval per batch; False for bulk loads."""
        import elasticsearch

        self.url = url
        self.index_name = index_name
        self.refresh = refresh
        self.segmenter = segmenter
        self._es = elasticsearch
        self.client = elasticsearch.Elasticsearch(url, request_timeout=request_timeout, max_retries=1,
                                                  retry_on_timeout=False)
        self._ensure_index()

    # ------------------------------------------------------------------ errors

    def _call(self, doing: str, fn, *args, **kwargs):
        import elastic_transport

        es = self._es
        try:
            return fn(*args, **kwargs)
        except (es.ConnectionError, es.ConnectionTimeout, elastic_transport.TransportError) as exc:
            raise IndexUnavailable(f"cannot {doing} Elasticsearch at {self.url} ({self.index_name}): {exc}") from exc
        except es.ApiError as exc:
            if exc.meta.status >= 500 or exc.meta.status in (401, 403) or _is_missing_index(exc):
                raise IndexUnavailable(
                    f"cannot {doing} Elasticsearch at {self.url} ({self.index_name}): {exc}") from exc
            raise SearchError(f"Elasticsearch refused to {doing} ({self.index_name}): {exc}") from exc

    def _ensure_index(self) -> None:
        if self._call("reach", self.client.indices.exists, index=self.index_name):
            return
        try:
            self._call("create the index on", self.client.indices.create, index=self.index_name,
                       settings=SETTINGS, mappings=MAPPINGS)
        except SearchError as exc:
            if "resource_already_exists" not in str(exc):  # another process created it meanwhile
                raise

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ writing

    def add(self, posts: Sequence[IndexedPost]) -> None:
        latest: dict[str, IndexedPost] = {}
        for post in posts:
            check_post(post)
            latest[post.id] = post
        if not latest:
            return
        batch = list(latest.values())
        n = len(batch)
        texts = self.segmenter.index_texts([p.title for p in batch] + [p.text for p in batch]
                                           + [searchable(p.title, p.text, p.normalised) for p in batch])
        operations: list[dict] = []
        for i, post in enumerate(batch):
            operations.append({"index": {"_index": self.index_name, "_id": post.id}})
            operations.append(self._document(post, texts[i], texts[n + i], texts[2 * n + i]))
        response = self._call("write to", self.client.bulk, operations=operations, refresh=self.refresh)
        if response.get("errors"):
            failed = [item["index"] for item in response["items"] if item["index"].get("error")]
            first = failed[0]
            raise SearchError(f"Elasticsearch rejected {len(failed)} of {len(latest)} posts; "
                              f"first {first.get('_id')!r}: {first['error']}")

    def _document(self, post: IndexedPost, title: tuple[str, str], body: tuple[str, str],
                  norm: tuple[str, str]) -> dict:
        """`title`, `body`, `norm`: (words, parts) token texts from Segmenter.index_texts."""
        return {
            "id": post.id, "source": post.source, "url": post.url, "title": post.title, "text": post.text,
            "author": post.author, "published_at": post.published_at.isoformat(),
            "published_us": epoch_us(post.published_at), "fetched_at": post.fetched_at.isoformat(),
            "primary": post.primary, "categories": list(post.categories), "status": post.status,
            "title_tokens": title[0], "body_tokens": body[0], "title_parts": title[1], "body_parts": body[1],
            "norm_tokens": norm[0], "norm_parts": norm[1], "normalised": post.normalised,
            "normalised_spans": [x for span in post.normalised_spans for x in span],
        }

    def set_status(self, post_id: str, status: str) -> None:
        """A post not (yet) in the index is left alone: add() carries the status when it arrives."""
        try:
            self._call("write to", self.client.update, index=self.index_name, id=post_id,
                       doc={"status": status}, refresh=self.refresh)
        except SearchError as exc:
            if not isinstance(exc.__cause__, self._es.NotFoundError):
                raise

    # ------------------------------------------------------------------ upkeep (SqliteUpkeep's twin)
    # Not run against a cluster here: written against the client's documented calls.

    def identity(self) -> str | None:
        """The store identity in the index mapping's `_meta` (None: never stamped)."""
        mapping = self._call("read", self.client.indices.get_mapping, index=self.index_name)
        meta = next(iter(dict(mapping).values()), {}).get("mappings", {}).get("_meta", {})
        return meta.get("patrol_store_id")

    def stamp(self, store_id: str) -> None:
        self._call("write to", self.client.indices.put_mapping, index=self.index_name,
                   meta={"patrol_store_id": store_id})

    def expect_stamp(self, store_id: str | None) -> None:
        """Nothing to follow: the cluster serves whatever index carries the name."""

    def remove(self, post_ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return 0
        operations = [{"delete": {"_index": self.index_name, "_id": i}} for i in ids]
        response = self._call("write to", self.client.bulk, operations=operations, refresh=self.refresh)
        return sum(1 for item in response["items"] if item["delete"].get("result") == "deleted")

    def rebuild(self, batches, store_id: str) -> int:
        """Empty the index and refill it. Unlike SQLite this is not one transaction: searches
        during the rebuild see a partial index."""
        self._call("write to", self.client.delete_by_query, index=self.index_name,
                   query={"match_all": {}}, refresh=True, conflicts="proceed")
        total = 0
        for batch in batches:
            self.add(batch)
            total += len({p.id for p in batch})
        self.stamp(store_id)
        return total

    # ------------------------------------------------------------------ reading

    def get(self, post_id: str) -> IndexedPost | None:
        try:
            doc = self._call("read", self.client.get, index=self.index_name, id=post_id)
        except SearchError as exc:
            if isinstance(exc.__cause__, self._es.NotFoundError) and not isinstance(exc, IndexUnavailable):
                return None
            raise
        s = doc["_source"]
        return IndexedPost(
            id=s["id"], source=s["source"], url=s["url"], title=s["title"], text=s["text"], author=s["author"],
            published_at=datetime.fromisoformat(s["published_at"]),
            fetched_at=datetime.fromisoformat(s["fetched_at"]), primary=s["primary"],
            categories=tuple(s["categories"]), status=s["status"], normalised=s.get("normalised", ""),
            normalised_spans=_spans(s.get("normalised_spans")))

    def count(self) -> int:
        return self._call("read", self.client.count, index=self.index_name)["count"]

    def search(self, query: SearchQuery) -> SearchResult:
        if not 1 <= query.limit <= MAX_LIMIT:
            raise InvalidSearch(f"limit must be between 1 and {MAX_LIMIT}, got {query.limit}")
        has_filters = any(v is not None for v in
                          (query.category, query.source, query.published_from, query.published_to))
        parsed = parse(query.q, has_filters=has_filters, segmenter=self.segmenter)
        after = cursors.decode(query)
        if after is not None and not (len(after) == 3 and isinstance(after[1], int) and isinstance(after[2], str)):
            raise BadCursor("the cursor does not fit this index; start again from the first page")
        body: dict = {
            "query": search_query(parsed.root, category=query.category, source=query.source,
                                  published_from=query.published_from, published_to=query.published_to),
            "sort": _SORT,
            "size": query.limit + 1,
            "track_total_hits": True,
            "_source": ["id", "source", "url", "title", "text", "published_at", "primary", "categories",
                        "normalised", "normalised_spans"],
        }
        if after is not None:
            body["search_after"] = after
        if query.facets:
            body["aggs"] = {
                "category": {"terms": {"field": "categories", "size": FACET_SIZE}},
                "source": {"terms": {"field": "source", "size": FACET_SIZE}},
            }
        response = self._call("search", self.client.search, index=self.index_name, **body)
        raw_hits = response["hits"]["hits"]
        more = len(raw_hits) > query.limit
        raw_hits = raw_hits[:query.limit]
        phrases = parsed.positive_phrases()
        hits = []
        for h in raw_hits:
            s = h["_source"]
            marked = (highlight(self.segmenter, s["title"], s["text"], phrases, normalised=s.get("normalised", ""),
                                spans=_spans(s.get("normalised_spans"))) if query.highlight else Highlights())
            hits.append(Hit(
                id=s["id"], score=float(h.get("_score") or h["sort"][0] or 0.0), source=s["source"], url=s["url"],
                title=s["title"], published_at=datetime.fromisoformat(s["published_at"]), primary=s["primary"],
                categories=tuple(s["categories"]), highlights=marked.fragments,
                matched_normalised=marked.matched_normalised))
        facets = {}
        if query.facets:
            facets = {name: {b["key"]: b["doc_count"] for b in response["aggregations"][name]["buckets"]}
                      for name in ("category", "source")}
        next_cursor = cursors.encode(query, raw_hits[-1]["sort"]) if more else None
        return SearchResult(total=response["hits"]["total"]["value"], hits=tuple(hits), facets=facets,
                            next_cursor=next_cursor)


def _is_missing_index(exc) -> bool:
    return exc.meta.status == 404 and "index_not_found" in str(exc)


def _spans(flat: list[int] | int | None) -> tuple[tuple[int, int, int, int], ...]:
    """Stored quadruples back from ES's flat array (a lone value comes back unwrapped)."""
    if not flat:
        return ()
    flat = [flat] if isinstance(flat, int) else flat
    return tuple(tuple(flat[i:i + 4]) for i in range(0, len(flat), 4))
