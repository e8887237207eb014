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

from dataclasses import replace
from datetime import datetime, timezone
from typing import Sequence

from search import cursor as cursors
from search.elastic_bulk import bulk_with_retries
from search.elastic_query import histogram_aggregation, search_query
from search.elastic_schema import (
    LAYOUT, MAPPINGS, SETTINGS, index_template, move_alias_actions, template_name, version_name, version_of,
)
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
# Exact totals up to here, then "at least" (hits.total.relation "gte"): counting every hit of a
# word found in half the index is what made totals slow; Elasticsearch's own default.
TRACK_TOTAL_HITS = 10_000
_SORT = [{"_score": "desc"}, {"published_us": "desc"}, {"id": "asc"}]


class ElasticIndex:
    """`index_name` is the alias readers and writers use (search/elastic_schema.py for the layout).

    `refresh`: when writes become searchable. "wait_for" (default) gives the SQLite index's
    read-your-writes at the cost of up to a refresh interval per batch; False for bulk loads.
    `shards`/`replicas` go into the index template (docs/DEPLOYMENT.md sizes them)."""

    def __init__(self, url: str, index_name: str, *, refresh: bool | str = "wait_for",
                 segmenter: Segmenter = DEFAULT_SEGMENTER, request_timeout: float = 10.0,
                 shards: int = 1, replicas: int = 1, bulk_retries: int = 4, bulk_backoff: float = 0.5):
        import elasticsearch

        self.url = url
        self.index_name = index_name
        self.refresh = refresh
        self.segmenter = segmenter
        self.shards, self.replicas = shards, replicas
        self.bulk_retries, self.bulk_backoff = bulk_retries, bulk_backoff
        self._es = elasticsearch
        self.client = elasticsearch.Elasticsearch(url, request_timeout=request_timeout, max_retries=1,
                                                  retry_on_timeout=False)
        self.current = self._ensure_alias()

    # ------------------------------------------------------------------ errors

    def _call(self, doing: str, fn, *args, **kwargs):
        import elastic_transport

        es = self._es
        try:
            return fn(*args, **kwargs)
        except (es.ConnectionError, es.ConnectionTimeout, elastic_transport.TransportError) as exc:
            raise IndexUnavailable(f"cannot {doing} Elasticsearch at {self.url} ({self.index_name}): {exc}") from exc
        except es.ApiError as exc:
            if exc.meta.status >= 500 or exc.meta.status in (401, 403, 429) or _is_missing_index(exc):
                raise IndexUnavailable(
                    f"cannot {doing} Elasticsearch at {self.url} ({self.index_name}): {exc}") from exc
            raise SearchError(f"Elasticsearch refused to {doing} ({self.index_name}): {exc}") from exc

    # ------------------------------------------------------------------ layout: alias, template, versions

    def _put_template(self) -> None:
        body = index_template(self.index_name, shards=self.shards, replicas=self.replicas)
        self._call("write the index template to", self.client.indices.put_index_template,
                   name=template_name(self.index_name), **body)

    def _alias_target(self) -> str | None:
        """The concrete index behind the alias; the alias name itself for an index of layout 1
        (one unaliased index), which keeps serving until `patrol index migrate` moves it."""
        if self._call("reach", self.client.indices.exists_alias, name=self.index_name):
            targets = list(self._call("read the alias on", self.client.indices.get_alias, name=self.index_name).body)
            if len(targets) != 1:
                raise SearchError(f"the alias {self.index_name} points at {len(targets)} indexes "
                                  f"({', '.join(sorted(targets))}); point it at one")
            return targets[0]
        if self._call("reach", self.client.indices.exists, index=self.index_name):
            return self.index_name
        return None

    def _ensure_alias(self) -> str:
        target = self._alias_target()
        if target is None:
            self._put_template()
            first = version_name(self.index_name, 1)
            try:
                self._call("create the index on", self.client.indices.create, index=first)
                self._call("point the alias on", self.client.indices.update_aliases,
                           actions=move_alias_actions(self.index_name, None, first))
            except SearchError as exc:
                if "resource_already_exists" not in str(exc):  # another process created it meanwhile
                    raise
            target = self._alias_target() or first
        if target != self.index_name:
            meta = self._call("read the mapping on", self.client.indices.get_mapping, index=target)
            layout = (meta[target]["mappings"].get("_meta") or {}).get("patrol_layout")
            if layout != LAYOUT:
                raise IndexUnavailable(f"{target} (behind {self.index_name}) has layout {layout}, this "
                                       f"Patrol writes layout {LAYOUT}; run `patrol index migrate`")
        return target

    @property
    def version(self) -> int:
        """The version serving now (0: the unaliased index of layout 1)."""
        return version_of(self.index_name, self.current) or 0

    def begin_migration(self) -> str:
        """A new, empty version for `patrol index migrate` to fill; a half-filled one left by an
        interrupted run (never aliased, so never served) is deleted first."""
        self._put_template()
        self.current = self._alias_target() or self.current
        new = version_name(self.index_name, self.version + 1)
        self._call("delete the unfinished index on", self.client.indices.delete, index=new, ignore_unavailable=True)
        # No refresh and no replica while filling: the bulk load runs several times faster.
        self._call("create the index on", self.client.indices.create, index=new,
                   settings={"refresh_interval": "-1", "number_of_replicas": 0})
        return new

    def finish_migration(self, new: str, *, delete_old: bool = False) -> str | None:
        """Point the alias at `new` in one atomic call; returns the index it left (kept for a
        rollback unless `delete_old`)."""
        self._call("configure", self.client.indices.put_settings, index=new,
                   settings={"refresh_interval": None, "number_of_replicas": self.replicas})
        self._call("refresh", self.client.indices.refresh, index=new)
        old = self._alias_target()
        actions = move_alias_actions(self.index_name, old if old != self.index_name else None, new)
        if old == self.index_name:  # layout 1: the old index has the alias's name; drop it in the same call
            actions.insert(0, {"remove_index": {"index": old}})
        self._call("move the alias on", self.client.indices.update_aliases, actions=actions)
        self.current = new
        if delete_old and old not in (None, self.index_name):
            self._call("delete the old index on", self.client.indices.delete, index=old)
        return old

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ writing

    def add(self, posts: Sequence[IndexedPost]) -> None:
        self.add_to(self.index_name, posts, refresh=self.refresh)

    def add_to(self, target: str, posts: Sequence[IndexedPost], *, refresh: bool | str = False) -> int:
        """Write a batch to `target` (the alias, or a version being filled by a migration)."""
        latest: dict[str, IndexedPost] = {}
        for post in posts:
            check_post(post)
            latest[post.id] = post
        if not latest:
            return 0
        batch = list(latest.values())
        n = len(batch)
        texts = self.segmenter.index_texts([p.title for p in batch] + [p.text for p in batch]
                                           + [searchable(p.title, p.text, p.normalised) for p in batch])
        actions = [({"index": {"_index": target, "_id": post.id}},
                    self._document(post, texts[i], texts[n + i], texts[2 * n + i])) for i, post in enumerate(batch)]
        return self._bulk(actions, refresh)

    def _bulk(self, actions: list[tuple[dict, dict | None]], refresh) -> int:
        return bulk_with_retries(
            lambda operations: self._call("write to", self.client.bulk, operations=operations, refresh=refresh).body,
            actions, retries=self.bulk_retries, backoff=self.bulk_backoff, where=f"Elasticsearch at {self.url}")

    def _document(self, post: IndexedPost, title: tuple[str, str], body: tuple[str, str],
                  norm: tuple[str, str]) -> dict:
        """`title`, `body`, `norm`: (words, parts) token texts from Segmenter.index_texts."""
        published_us = epoch_us(post.published_at)
        return {
            "id": post.id, "source": post.source, "url": post.url, "title": post.title, "text": post.text,
            "author": post.author, "published_at": post.published_at.isoformat(),
            "published_us": published_us, "published_day": published_us // 1000,
            "fetched_at": post.fetched_at.isoformat(),
            "primary": post.primary, "categories": list(post.categories), "status": post.status,
            "title_tokens": title[0], "body_tokens": body[0], "title_parts": title[1], "body_parts": body[1],
            "norm_tokens": norm[0], "norm_parts": norm[1], "normalised": post.normalised,
            "normalised_spans": [x for span in post.normalised_spans for x in span],
        }

    def set_statuses_in(self, target: str, pairs: Sequence[tuple[str, str]]) -> None:
        """(post id, status) pairs written to `target` in one bulk request (a migration's sweep)."""
        self._bulk([({"update": {"_index": target, "_id": post_id}}, {"doc": {"status": status}})
                    for post_id, status in pairs], False)

    def set_status(self, post_id: str, status: str) -> None:
        """A post not (yet) in the index is left alone: add() carries the status when it arrives."""
        self._bulk([({"update": {"_index": self.index_name, "_id": post_id}}, {"doc": {"status": status}})],
                   self.refresh)

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
        parsed, after, cursor_version = self._checked(query)
        body = search_body(parsed.root, query, after)
        response = self._call("search", self.client.search, index=self.index_name, **body)
        raw_hits = response["hits"]["hits"]
        if raw_hits:
            # The version that answered, from the hits themselves: another process may have moved
            # the alias since this one last looked.
            self.current = raw_hits[0].get("_index", self.current)
        if cursor_version is not None:
            check_cursor_version(cursor_version, self.version)
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
        # The version is part of the cursor: a page of v2 cannot continue in v3 (other scores, other docs).
        next_cursor = cursors.encode(query, list(raw_hits[-1]["sort"]) + [self.version]) if more else None
        total = response["hits"]["total"]
        return SearchResult(total=total["value"], hits=tuple(hits), facets=facets, next_cursor=next_cursor,
                            total_relation=total.get("relation", "eq"))

    def histogram(self, query: SearchQuery, interval: str = "day", time_zone: str = "UTC") -> list[tuple[datetime, int]]:
        """Matches per calendar `interval` (day, hour, week, month) of publication, oldest first:
        one date_histogram aggregation, no hits fetched. Elasticsearch only (the trends view on
        the embedded index counts day by day with search())."""
        parsed, _, _ = self._checked(replace(query, cursor=None))
        body = {"query": search_body(parsed.root, query, None)["query"], "size": 0, "track_total_hits": False,
                "aggs": {"published": histogram_aggregation(interval, time_zone)}}
        response = self._call("search", self.client.search, index=self.index_name, **body)
        return [(datetime.fromtimestamp(b["key"] / 1000, timezone.utc), b["doc_count"])
                for b in response["aggregations"]["published"]["buckets"]]

    def _checked(self, query: SearchQuery):
        if not 1 <= query.limit <= MAX_LIMIT:
            raise InvalidSearch(f"limit must be between 1 and {MAX_LIMIT}, got {query.limit}")
        has_filters = any(v is not None for v in
                          (query.category, query.source, query.published_from, query.published_to))
        parsed = parse(query.q, has_filters=has_filters, segmenter=self.segmenter)
        after = cursors.decode(query)
        if after is None:
            return parsed, None, None
        if not (len(after) == 4 and isinstance(after[1], int) and isinstance(after[2], str)
                and isinstance(after[3], int)):
            raise BadCursor("the cursor does not fit this index; start again from the first page")
        return parsed, after[:3], after[3]


def check_cursor_version(cursor_version: int, served_version: int) -> None:
    """A page of one index version cannot continue in another (other documents, other scores)."""
    if cursor_version != served_version:
        raise BadCursor(f"the index was rebuilt (version {cursor_version} → {served_version}) since this page; "
                        "start again from the first page")


def search_body(root, query: SearchQuery, after: list | None) -> dict:
    """The body of one search request: the query tree (elastic_query.py), sort, page, totals,
    facets. Pure, so the request the index sends is unit-tested against the documented API."""
    body: dict = {
        "query": search_query(root, category=query.category, source=query.source,
                              published_from=query.published_from, published_to=query.published_to),
        "sort": _SORT,
        "size": query.limit + 1,
        "track_total_hits": TRACK_TOTAL_HITS,
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
    return body


def _is_missing_index(exc) -> bool:
    return exc.meta.status == 404 and "index_not_found" in str(exc)


def _spans(flat: list[int] | int | None) -> tuple[tuple[int, int, int, int], ...]:
    """Stored quadruples back from ES's flat array (a lone value comes back unwrapped)."""
    if not flat:
        return ()
    flat = [flat] if isinstance(flat, int) else flat
    return tuple(tuple(flat[i:i + 4]) for i in range(0, len(flat), 4))
