"""The search index belongs to one workflow database: it is stamped with the store's identity
(`store.store_id()`, made once by migration 0004) and checked against it when opened and by
`/healthz`. A missing index (moved away, deleted, or an empty one in its place while the store
has posts marked indexed) and a foreign one (stamped for another database) are refused with
IndexUnavailable, so the ingest step keeps new posts marked for reindexing instead of writing
them into the wrong index and calling them indexed. `rebuild_index` (`patrol reindex --full`)
builds the index again from the store."""
from __future__ import annotations

from typing import Iterator

from patrol.ingest import to_indexed
from search.index import IndexedPost, IndexUnavailable

REBUILD = "patrol reindex --full"


class IndexMismatch(IndexUnavailable):
    """The index is missing or belongs to another store; the message says which and what to do."""


def check_index(store, index, *, adopt: bool = True) -> None:
    """Refuse a missing or foreign index. `adopt`: stamp an index that has no stamp yet (a new
    one, or one written before stamps existed); /healthz only checks (adopt=False)."""
    store_id = store.store_id()
    stamp = index.identity()
    if stamp == store_id:
        index.expect_stamp(store_id)
        return
    if stamp is not None:
        raise IndexMismatch(f"the search index belongs to another database (stamped {stamp}, this store is "
                            f"{store_id}); restore this store's index or run `{REBUILD}`")
    if store.has_indexed_posts() and index.count() == 0:
        raise IndexMismatch("the search index is empty but the store has posts marked indexed: the index was "
                            f"lost or replaced; put it back, or run `{REBUILD}`")
    if not adopt:
        raise IndexMismatch(f"the search index is not stamped with this store's identity ({store_id}) yet")
    index.stamp(store_id)


def rebuild_index(store, index, batch_size: int = 500) -> int:
    """Rebuild the whole index from the store (with each post's alert status), stamp it, and mark
    every post it took as indexed. A post edited meanwhile stays marked for the next reindex."""
    done: list[tuple[str, int]] = []

    def batches() -> Iterator[list[IndexedPost]]:
        page = []
        for post in store.iter_posts(page_size=batch_size):
            page.append(post)
            if len(page) >= batch_size:
                yield _indexed(store, page, done)
                page = []
        if page:
            yield _indexed(store, page, done)

    total = index.rebuild(batches(), store.store_id())
    for i in range(0, len(done), 1000):
        store.mark_indexed(done[i:i + 1000])
    return total


def _indexed(store, page, done: list[tuple[str, int]]) -> list[IndexedPost]:
    statuses = store.alert_statuses([p.id for p in page])
    done.extend((p.id, p.version) for p in page)
    return [to_indexed(p, statuses.get(p.id, "")) for p in page]
