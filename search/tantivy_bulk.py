"""What a post becomes in the tantivy index (its fields), and the bulk load that segments posts in
worker processes while the writer indexes the batches they finished.

Why workers: `add()` spends about half its time in segmentation (rjieba, folding, sub-words) and a
quarter building the fields (the stored JSON, word pairs), all in Python under the GIL; tantivy's
own indexing runs in its writer thread. One process therefore tops out near 10,000 posts/s of CPU
at a million posts. In `bulk(workers=N)` each batch is split among N worker processes that return
ready fields; the calling process only turns them into documents and feeds the writer, one
batch behind the workers (a pipeline of two batches), so segmentation no longer caps the rate.
Workers return the documents' fields; the writer's process builds each Document and feeds the
writer.

A pipelined add() returns before its batch is written: a batch is checked (check_post) before it is
queued, so only a fault of the machinery itself (a worker killed) can fail it later, and that
failure is raised by a later add() or by the end of the block. This is why only loads that mark
nothing per batch use workers (the bench, `rebuild`); `patrol ingest` and `reindex` use bulk()
without them, which writes each batch at once and only defers the commit.
"""
from __future__ import annotations

import json
import multiprocessing
import zlib
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Iterator, Sequence

import tantivy

from search.index import IndexedPost, IndexUnavailable
from search.normalised import searchable
from search.tantivy_paging import id_order
from search.tantivy_query import PAIR_FIELDS, word_pairs
from search.times import epoch_us
from search.tokens import Segmenter

SAMPLE_BUCKETS = 64


def sample_bucket(post_id: str) -> str:
    return str(zlib.crc32(post_id.encode()) % SAMPLE_BUCKETS)


def to_json(p: IndexedPost) -> bytes:
    return json.dumps([p.id, p.source, p.url, p.title, p.text, p.author, p.published_at.isoformat(),
                       p.fetched_at.isoformat(), p.primary, list(p.categories), p.status, p.normalised,
                       [list(s) for s in p.normalised_spans]], ensure_ascii=False, separators=(",", ":")).encode()


def document_fields(p: IndexedPost, title: tuple[str, str], body: tuple[str, str], norm: tuple[str, str],
                    pairs: bool) -> dict:
    """Every field of the post's document but `seq` (the write time, set when it is written)."""
    fields = {
        "title": title[0], "body": body[0], "norm": norm[0],
        "title_parts": title[1], "body_parts": body[1], "norm_parts": norm[1],
        "id": p.id, "source": p.source, "categories": list(p.categories), "author": p.author,
        "status": p.status, "primary": p.primary, "sample": sample_bucket(p.id),
        "published_us": epoch_us(p.published_at), "doc": to_json(p),
    }
    if pairs:
        for words, name in ((title[0], PAIR_FIELDS["title"]), (body[0], PAIR_FIELDS["body"]),
                            (norm[0], PAIR_FIELDS["norm"])):
            fields[name] = word_pairs(words)
        fields["id_order"] = id_order(p.id)
    return fields


def prepare(posts: Sequence[IndexedPost], segmenter: Segmenter, pairs: bool) -> list[dict]:
    """The fields of each post's document but its `seq`, from one segmentation call over the batch."""
    n = len(posts)
    texts = segmenter.index_texts([p.title for p in posts] + [p.text for p in posts]
                                  + [searchable(p.title, p.text, p.normalised) for p in posts])
    return [document_fields(p, texts[i], texts[n + i], texts[2 * n + i], pairs) for i, p in enumerate(posts)]


def documents(fields: list[dict], schema: tantivy.Schema, seq: int) -> Iterator[tantivy.Document]:
    for f in fields:
        f["seq"] = seq
        yield tantivy.Document.from_dict(f, schema)


_WORKER_SEGMENTER: Segmenter | None = None


def _prepare_in_worker(posts: Sequence[IndexedPost], pairs: bool) -> list[dict]:
    """In a worker process. It returns dicts of strings, which pickle at ~5 us a post; a tantivy
    Document pickles at ~130 us and unpickles at ~80 (measured), more than building it anew."""
    global _WORKER_SEGMENTER
    if _WORKER_SEGMENTER is None:  # one per worker process: its word memo warms up across batches
        _WORKER_SEGMENTER = Segmenter()
    return prepare(posts, _WORKER_SEGMENTER, pairs)


class Pipeline:
    """Batches segmented by `workers` processes, handed back in the order they were queued."""

    def __init__(self, workers: int, pairs: bool):
        # spawn, not fork: the calling process runs tantivy's writer threads, which fork would copy mid-flight
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        self._workers = workers
        self._pairs = pairs
        self._queued: deque[tuple[list[IndexedPost], list[Future]]] = deque()

    def submit(self, posts: list[IndexedPost]) -> None:
        size = -(-len(posts) // self._workers)
        chunks = [posts[i:i + size] for i in range(0, len(posts), size)]
        self._queued.append((posts, [self._pool.submit(_prepare_in_worker, c, self._pairs) for c in chunks]))

    def finished(self, keep: int) -> Iterator[tuple[list[IndexedPost], list[dict]]]:
        """The oldest batches with their fields, until `keep` batches are still queued."""
        while len(self._queued) > keep:
            posts, futures = self._queued.popleft()
            try:
                fields = [f for future in futures for f in future.result()]
            except BrokenProcessPool as exc:  # a worker was killed (memory, a signal): the load cannot go on
                raise IndexUnavailable(f"a segmentation worker of the bulk load died ({exc}); "
                                       f"{len(posts)} post(s) of this batch were not written") from exc
            yield posts, fields

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
