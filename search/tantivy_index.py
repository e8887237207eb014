"""The embedded post index on tantivy (a Lucene-style engine in Rust): the same segmented tokens,
the same contract as SqliteIndex, and a cost per search that does not grow with the number of hits.

Why tantivy, with the figures: search/README.md "Which embedded engine". In short, FTS5's bm25 scores
every match (no top-k pruning), so a common word at a million posts costs ~100 ms before facets;
tantivy ranks the top of a posting list with block-max pruning, counts in a tight loop, and
aggregates facets from columnar "fast fields".

Layout: one directory. Each post is one tantivy document: the six token fields (whitespace
tokenizer over search/tokens.py output; positions on the word fields only, for phrases), raw
keyword fields for filters and facets, `published_us` (the microseconds search/times.py defines),
`seq` (when it was written, nanoseconds: a
cursor's later pages leave out what was written after the first), `sample` (a hash bucket of the id, for bounded
totals and facets, below), and `doc`, the whole IndexedPost as stored JSON for get() and hits.

Totals and facets (search/README.md "Totals and facets"): exact up to TOTAL_CAP, then the cap and
`total_relation="gte"`, as Elasticsearch's `track_total_hits`. A query is first counted on a
1/64 sample of the posts (the `sample` bucket of each id, a hash: independent of content), doubling
the sample until it holds TOTAL_CAP matches or is the whole index. So the work is bounded by about
2 × TOTAL_CAP matches whatever the hits, and the lower bound is a real count. Facets come from the
same sample scaled up (exact when the total is exact).

Writes: one IndexWriter per add() or set_status(), committed before returning (read-your-writes);
another process writing at the same time waits for the writer lock up to `lock_timeout` seconds.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator, Sequence

import tantivy

from search import cursor as cursors
from search.highlight import Highlights, highlight
from search.index import (MAX_LIMIT, TOTAL_CAP, BadCursor, Hit, IndexedPost, IndexUnavailable, InvalidSearch,
                          SearchQuery, SearchResult, check_post)
from search.normalised import searchable
from search.query import parse
from search.tantivy_bulk import SAMPLE_BUCKETS, Pipeline, document_fields, documents, prepare, sample_bucket  # noqa: F401 (sample_bucket: tests)
from search.tantivy_paging import newest, stable_page
from search.tantivy_query import PAIR_FIELDS, Translator, is_ranked
from search.tantivy_upkeep import LAYOUT_FILE, TantivyUpkeep, dir_id, read_layout
from search.tokens import DEFAULT_SEGMENTER, Segmenter

log = logging.getLogger(__name__)
LAYOUT_VERSION = 2  # 2 added the word-pair fields (PAIR_FIELDS); a layout-1 index is read without them
MAX_OFFSET = 10_000  # Elasticsearch's default index.max_result_window: deeper pages are refused
_ALL_BUCKETS = [str(b) for b in range(SAMPLE_BUCKETS)]
_FACET_SIZE = 1000


def schema_of_layout(pairs: bool = True) -> tantivy.Schema:
    """The schema of layout 2 (`pairs`) or layout 1."""
    sb = tantivy.SchemaBuilder()
    for name in ("title", "body", "norm"):
        sb.add_text_field(name, tokenizer_name="whitespace")
    for name in ("title_parts", "body_parts", "norm_parts"):
        sb.add_text_field(name, tokenizer_name="whitespace", index_option="freq")
    if pairs:  # layout 2: adjacent words of the word stream, so a two-word phrase is one term,
        for name in PAIR_FIELDS.values():  # and each post's tie key for a stable page order
            sb.add_text_field(name, tokenizer_name="whitespace", index_option="freq")
        sb.add_integer_field("id_order", fast=True)
    sb.add_text_field("id", tokenizer_name="raw", index_option="basic")
    for name in ("source", "categories"):
        sb.add_text_field(name, tokenizer_name="raw", index_option="basic", fast=True)
    for name in ("author", "status", "primary"):
        sb.add_text_field(name, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("sample", tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("published_us", indexed=True, fast=True)
    sb.add_integer_field("seq", stored=True, indexed=True, fast=True)
    sb.add_bytes_field("doc", stored=True)
    return sb.build()


def _from_json(raw: bytes) -> IndexedPost:
    f = json.loads(raw)
    return IndexedPost(id=f[0], source=f[1], url=f[2], title=f[3], text=f[4], author=f[5],
                       published_at=datetime.fromisoformat(f[6]), fetched_at=datetime.fromisoformat(f[7]),
                       primary=f[8], categories=tuple(f[9]), status=f[10], normalised=f[11],
                       normalised_spans=tuple(tuple(s) for s in f[12]))


@dataclass
class _Bulk:
    writer: tantivy.IndexWriter
    commit_every: int
    pending: int = 0
    pipeline: Pipeline | None = None  # bulk(workers=N): segmentation in worker processes
    hold_writer: bool = True  # False: the writer (and its lock) is let go at each commit


class TantivyIndex(TantivyUpkeep):
    def __init__(self, path: str | Path, *, segmenter: Segmenter = DEFAULT_SEGMENTER, lock_timeout: float = 10.0,
                 writer_heap: int = 64_000_000, create: bool = True):
        """`create=False`: a missing index is IndexUnavailable, not a new empty one (the store
        has posts marked indexed: an empty index would silently lose them from search)."""
        self.path = Path(path)
        self._dir, self._expected_stamp = None, None
        self.segmenter = segmenter
        self.lock_timeout = lock_timeout
        self.writer_heap = writer_heap
        self._lock = threading.Lock()
        self._closed = False
        self._bulk: _Bulk | None = None
        self._span: tuple[int, tuple[int, int] | None] | None = None  # (num_docs when read, time span)
        if not create and not (self.path / LAYOUT_FILE).exists():
            raise IndexUnavailable(f"the search index {self.path} is missing; put it back, or rebuild "
                                   "it from the store with `patrol reindex --full`")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._index = self._open_layout(self._check_layout())
            self._dir, self._expected_stamp = dir_id(self.path), read_layout(self.path).get("store_id")
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(f"the search index at {self.path} cannot be opened: {exc}") from exc
        if self.interrupted_bulk_load():
            log.warning("a bulk load into the search index %s ended without its last commit: posts the store "
                        "marks indexed may be missing from search; `patrol reindex --full` rebuilds it", self.path)

    def _open_layout(self, version: int) -> tantivy.Index:
        """The tantivy index in the directory, with the schema of its layout. A layout-1 index has
        no pair fields: it keeps working, answering two-word phrases by positions (slower) until it
        is rebuilt into a new directory."""
        self.pairs = version >= 2
        self.schema = schema_of_layout(self.pairs)
        self._translate = Translator(self.schema, pairs=self.pairs)
        return tantivy.Index(self.schema, path=str(self.path), reuse=True)

    def _check_layout(self) -> int:
        """The layout version of the directory (a new empty one gets the current one)."""
        marker = self.path / LAYOUT_FILE
        if marker.exists():
            try:
                version = read_layout(self.path)["version"]
            except (KeyError, TypeError) as exc:
                raise IndexUnavailable(f"the search index at {self.path} has an unreadable {LAYOUT_FILE}") from exc
            if version > LAYOUT_VERSION:
                raise IndexUnavailable(f"the search index at {self.path} was written by a newer Patrol "
                                       f"(layout {version}, this one reads {LAYOUT_VERSION})")
            if not isinstance(version, int) or version < 1:
                raise IndexUnavailable(f"the search index at {self.path} has an unreadable {LAYOUT_FILE}")
            return version
        if any(self.path.iterdir()):
            raise IndexUnavailable(f"{self.path} is not a Patrol search index (no {LAYOUT_FILE}); refusing to touch it")
        marker.write_text(json.dumps({"version": LAYOUT_VERSION, "engine": "tantivy"}))
        return LAYOUT_VERSION

    def close(self) -> None:
        self._closed = True
        self._index = None

    def _searcher(self) -> tantivy.Searcher:
        if self._closed:
            raise IndexUnavailable(f"the search index at {self.path} is closed")
        self._follow_dir()
        try:
            self._index.reload()  # another process may have committed since
            return self._index.searcher()
        except ValueError as exc:
            raise IndexUnavailable(f"the search index at {self.path} cannot be read: {exc}") from exc

    # ------------------------------------------------------------------ writing

    def _writer(self) -> tantivy.IndexWriter:
        """The index's one writer; across processes, waits for the lock like SQLite's busy timeout."""
        deadline = time.monotonic() + self.lock_timeout
        while True:
            if self._closed:
                raise IndexUnavailable(f"the search index at {self.path} is closed")
            self._follow_dir()
            try:
                return self._index.writer(heap_size=self.writer_heap, num_threads=1)
            except ValueError as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise IndexUnavailable(f"cannot write to the search index at {self.path}: {exc}") from exc
                time.sleep(0.05)

    def add(self, posts: Sequence[IndexedPost]) -> None:
        latest: dict[str, IndexedPost] = {}
        for post in posts:  # every post is checked before anything is written
            check_post(post)
            latest[post.id] = post
        if not latest:
            return
        batch = list(latest.values())
        pipeline = self._bulk.pipeline if self._bulk is not None else None
        if pipeline is None:
            self._write_fields(batch, prepare(batch, self.segmenter, self.pairs))
            return
        pipeline.submit(batch)  # checked above; written by a later add() or the block's end
        for posts, fields in pipeline.finished(keep=1):
            self._write_fields(posts, fields)

    def _write_fields(self, batch: list[IndexedPost], fields: list[dict]) -> None:
        """Replaces each post's document; `fields` lack their `seq`, the write time, added here."""
        def write(writer: tantivy.IndexWriter) -> None:
            for p, doc in zip(batch, documents(fields, self.schema, time.time_ns())):
                writer.delete_documents_by_term("id", p.id)
                writer.add_document(doc)
        self._write(write, len(batch))

    def _write(self, operations, n_posts: int, commit_now: bool = False) -> None:
        """Runs `operations(writer)` and commits (searchable and durable on return); inside bulk(),
        on the held writer, committing only every `commit_every` posts."""
        with self._lock:
            held = self._bulk
            if held and held.writer is None:  # let go at the last commit (hold_writer=False)
                held.writer = self._writer()
            writer = held.writer if held else self._writer()
            try:
                operations(writer)
                if held:
                    held.pending += n_posts
                if not held or commit_now or held.pending >= held.commit_every:
                    writer.commit()
                    if held:
                        held.pending = 0
                        if not held.hold_writer:
                            held.writer = None
                    self._index.reload()
            except ValueError as exc:
                if not held:
                    writer.rollback()
                raise IndexUnavailable(f"cannot write to the search index at {self.path}: {exc}") from exc
            finally:
                del writer

    @contextmanager
    def bulk(self, commit_every: int = 250_000, workers: int = 0, hold_writer: bool = True) -> Iterator[None]:
        """For a bulk load (a reindex, a large ingest): one writer held for the whole block, and
        add() inside it commits only every `commit_every` posts and when the block ends, so what
        it adds becomes searchable then. A commit fsyncs its files (tenths of a second on a busy
        disk), which bounds one-commit-per-batch loading to a few thousand posts/s. What was added
        is committed even when the block fails: every batch was checked before it was written.

        `workers` > 0: segment in that many worker processes, one batch ahead of the writer
        (search/tantivy_bulk.py; an add() then returns before its batch is written).
        `hold_writer=False` (an ingest while `patrol serve` runs): the writer lock is let go at each
        commit, so another process's set_status waits at most one `commit_every` of writing."""
        with self._lock:
            if self._bulk is not None:
                raise RuntimeError("bulk() is already open on this index")
            self._bulk = _Bulk(self._writer(), commit_every, hold_writer=hold_writer)
            self._note_bulk_load(True)  # cleared after the last commit; left behind by a crash
        try:
            if workers > 0:
                self._bulk.pipeline = Pipeline(workers, self.pairs)
            yield
        finally:
            pipeline = self._bulk.pipeline
            try:
                if pipeline is not None:
                    for posts, fields in pipeline.finished(keep=0):
                        self._write_fields(posts, fields)
            finally:
                if pipeline is not None:
                    pipeline.close()
            with self._lock:
                held, self._bulk = self._bulk, None
                try:
                    if held.writer is not None:
                        held.writer.commit()
                    self._note_bulk_load(False)
                    self._index.reload()
                except ValueError as exc:
                    raise IndexUnavailable(f"cannot write to the search index at {self.path}: {exc}") from exc
                finally:
                    del held

    def _document(self, p: IndexedPost, title: tuple[str, str], body: tuple[str, str], norm: tuple[str, str],
                  seq: int) -> tantivy.Document:
        return tantivy.Document.from_dict({**document_fields(p, title, body, norm, self.pairs), "seq": seq},
                                          self.schema)

    def set_status(self, post_id: str, status: str) -> None:
        """A post not (yet) in the index is left alone: add() carries the status when it arrives."""
        found = self._find(post_id)
        if found is None:
            return
        post, seq = found
        post = IndexedPost(**{**post.__dict__, "status": status})
        texts = self.segmenter.index_texts([post.title, post.text, searchable(post.title, post.text, post.normalised)])

        def write(writer: tantivy.IndexWriter) -> None:
            writer.delete_documents_by_term("id", post_id)
            writer.add_document(self._document(post, *texts, seq))  # same seq: cursors keep it in place
        self._write(write, 1, commit_now=True)  # searchable at once, even during a bulk load

    # ------------------------------------------------------------------ reading

    def _find(self, post_id: str) -> tuple[IndexedPost, int] | None:
        searcher = self._searcher()
        hits = searcher.search(tantivy.Query.term_query(self.schema, "id", post_id), 1, count=False).hits
        if not hits:
            return None
        doc = searcher.doc(hits[0][1])
        return _from_json(doc["doc"][0]), doc["seq"][0]

    def get(self, post_id: str) -> IndexedPost | None:
        found = self._find(post_id)
        return found[0] if found else None

    def count(self) -> int:
        return self._searcher().num_docs

    def search(self, query: SearchQuery) -> SearchResult:
        if not 1 <= query.limit <= MAX_LIMIT:
            raise InvalidSearch(f"limit must be between 1 and {MAX_LIMIT}, got {query.limit}")
        has_filters = any(v is not None for v in
                          (query.category, query.source, query.published_from, query.published_to))
        parsed = parse(query.q, has_filters=has_filters, segmenter=self.segmenter)
        offset, watermark = self._page_start(query)
        searcher = self._searcher()
        extra = []
        if watermark is None:
            watermark = time.time_ns()
        else:  # posts written after the first page are left out of the later ones, so pages do not shift
            extra.append(self._translate.at_most("seq", watermark))
        q = self._translate.search(parsed.root, extra=extra, category=query.category, source=query.source,
                                   published_from=query.published_from, published_to=query.published_to)
        ranked = is_ranked(parsed.root)
        try:
            if ranked:
                def top(m: int) -> list:
                    return searcher.search(q, m, count=False).hits
            else:
                span = self._time_span(searcher)

                def top(m: int) -> list:
                    return newest(searcher, q, m, span, self._translate.since)
            page, more = stable_page(top, offset, query.limit, lambda addresses: self._tie_keys(searcher, addresses))
            total, relation, facets, estimated = self._total_and_facets(searcher, q, query.facets)
        except ValueError as exc:
            raise IndexUnavailable(f"the search index at {self.path} failed the search: {exc}") from exc
        phrases = parsed.positive_phrases()
        hits = []
        for key, address in page:
            p = _from_json(searcher.doc(address)["doc"][0])
            marked = (highlight(self.segmenter, p.title, p.text, phrases, normalised=p.normalised,
                                spans=p.normalised_spans) if query.highlight else Highlights())
            hits.append(Hit(id=p.id, score=float(key) if ranked else 0.0, source=p.source, url=p.url, title=p.title,
                            published_at=p.published_at, primary=p.primary, categories=p.categories,
                            highlights=marked.fragments, matched_normalised=marked.matched_normalised))
        next_cursor = cursors.encode(query, ["tantivy", offset + query.limit, watermark]) if more else None
        return SearchResult(total=total, hits=tuple(hits), facets=facets, next_cursor=next_cursor,
                            total_relation=relation, facets_estimated=estimated)

    def _tie_keys(self, searcher: tantivy.Searcher, addresses: list) -> list:
        """Equal keys rank newest first, then by the id's fixed order (the order of the other
        indexes: Elasticsearch's search_after on [_score, published_us, id])."""
        published = searcher.fast_field_values("published_us", addresses)
        if self.pairs:
            ids = searcher.fast_field_values("id_order", addresses)
        else:  # layout 1 has no id_order: the ids themselves, from the stored documents
            ids = [json.loads(searcher.doc(a)["doc"][0])[0] for a in addresses]
        return [(-t, i) for t, i in zip(published, ids)]

    def _time_span(self, searcher: tantivy.Searcher) -> tuple[int, int] | None:
        """(oldest, newest) publication time, for the newest-first window; read again when the
        index has grown or shrunk by a tenth. A stale span only costs a wider window: correctness
        never depends on it (tantivy_paging.newest)."""
        n = searcher.num_docs
        cached = self._span
        if cached is None or abs(n - cached[0]) > cached[0] / 10:
            stats = searcher.aggregate(tantivy.Query.all_query(), {"t": {"stats": {"field": "published_us"}}})["t"]
            span = None if not stats.get("count") else (int(stats["min"]), int(stats["max"]))
            self._span = cached = (n, span)
        return cached[1]

    def _page_start(self, query: SearchQuery) -> tuple[int, int | None]:
        after = cursors.decode(query)
        if after is None:
            return 0, None
        if not (len(after) == 3 and after[0] == "tantivy" and all(isinstance(x, int) for x in after[1:])):
            raise BadCursor("the cursor does not fit this index; start again from the first page")
        if after[1] > MAX_OFFSET:
            raise InvalidSearch(f"only the first {MAX_OFFSET:,} hits can be paged through; "
                                "narrow the search with words, a filter or a date range")
        return after[1], after[2]

    def _total_and_facets(self, searcher: tantivy.Searcher, q: tantivy.Query,
                          facets: bool) -> tuple[int, str, dict[str, dict[str, int]], bool]:
        """The total, exact up to TOTAL_CAP, and the facets, from the smallest sample of buckets
        that holds TOTAL_CAP matches (the whole index when fewer match)."""
        buckets = 1
        while True:
            sample = q if buckets == SAMPLE_BUCKETS else tantivy.Query.boolean_query([
                (tantivy.Occur.Must, q),
                (tantivy.Occur.Must, tantivy.Query.term_set_query(self.schema, "sample", _ALL_BUCKETS[:buckets]))])
            n = _count(searcher, sample)
            if n >= TOTAL_CAP or buckets == SAMPLE_BUCKETS:
                break
            # Jump straight to the sample expected to hold the cap (at least doubling), so a rare
            # word costs two counts, not seven.
            expected = SAMPLE_BUCKETS if n == 0 else buckets * TOTAL_CAP * 1.2 / n
            buckets = min(SAMPLE_BUCKETS, max(buckets * 2, 1 << (int(expected) - 1).bit_length()))
        exact = buckets == SAMPLE_BUCKETS and n <= TOTAL_CAP
        total, relation = (n, "eq") if exact else (TOTAL_CAP, "gte")
        if not facets:
            return total, relation, {}, False
        scale = SAMPLE_BUCKETS / buckets
        agg = searcher.aggregate(sample, {
            "category": {"terms": {"field": "categories", "size": _FACET_SIZE}},
            "source": {"terms": {"field": "source", "size": _FACET_SIZE}}})
        out = {name: {b["key"]: round(b["doc_count"] * scale) for b in agg[name]["buckets"]}
               for name in ("category", "source")}
        return total, relation, out, buckets < SAMPLE_BUCKETS


def _count(searcher: tantivy.Searcher, q: tantivy.Query) -> int:
    return searcher.search(tantivy.Query.const_score_query(q, 0.0), 1, count=True).count
