"""Which hits a tantivy page holds, in an order that does not depend on where documents sit, and
the early exit of newest-first pages.

**Ties.** tantivy orders equal keys by document address. Equal keys are common: a BM25 score
depends on a few small integers (term frequency, a one-byte field length), so a common word at
100,000 posts has ~20 distinct scores in its top 2,000 hits, in groups of up to a thousand; and
posts can share a publication time. A document's address changes when a segment merge runs or the
document is rewritten (`set_status`), so between two page requests a hit at a page edge could move
across it: repeated on the next page, or never shown. Pages are therefore cut from one total order,
(key descending, tie key ascending), where the tie key is (newest first, then a fixed order of the
post id: `id_order`, a 64-bit hash of the id stored as a fast field; a layout-1 index without it
uses the id itself, read from the stored document), the order of Elasticsearch's search_after. To apply it, tantivy is asked for more hits than the page until the group
of hits sharing the key of the page's last position is complete (fetching GROWTH times more each
round). Only the groups that touch the page are sorted. Past MAX_FETCH hits a group is cut where
tantivy's order cut it (documented limit; no bench query gets there on its first pages).

**Newest first.** A query without words lists the newest posts, which tantivy finds by reading the
publication time of every match (30 ms at a million posts). Instead the query is first run within
a recent time window expected to hold a few times the hits the page needs (from the index's time
span and size), widened until it holds enough; the newest `m` hits of the window are the newest `m`
of the whole index as soon as the window holds at least `m` (everything outside it is older).
"""
from __future__ import annotations

import hashlib
from typing import Callable

import tantivy

FIRST_FETCH = 64   # asking tantivy for 64 hits costs about what 21 cost, and settles most ties at once
GROWTH = 8
MAX_FETCH = 65_536
WINDOW_MARGIN = 4.0  # a first window expected to hold 4x the hits needed

Hits = list[tuple]  # (key, DocAddress) as tantivy returns them, key descending


def id_order(post_id: str) -> int:
    """The tie key of a post: a fixed signed 64-bit hash of its id (an i64 fast field)."""
    return int.from_bytes(hashlib.blake2b(post_id.encode(), digest_size=8).digest(), "big", signed=True)


def stable_page(search: Callable[[int], Hits], offset: int, limit: int,
                tie_keys: Callable[[list], list]) -> tuple[Hits, bool]:
    """The hits at [offset, offset + limit) of the order (key desc, tie key asc), and whether
    more follow. `search(m)` returns the top m hits by key; `tie_keys(addresses)` their tie keys."""
    need = offset + limit
    fetch = max(need + 1, FIRST_FETCH)
    while True:
        hits = search(fetch)
        complete = len(hits) < fetch
        if complete or hits[need - 1][0] != hits[-1][0] or fetch >= MAX_FETCH:
            break  # every hit keyed as high as the page's last position is in `hits`
        fetch = min(fetch * GROWTH, MAX_FETCH)
    more = len(hits) > need
    if len(hits) <= offset:
        return [], False
    end = min(need, len(hits))
    # The groups of equal keys that touch the page: from the first hit keyed like the page's first
    # to the last hit keyed like its last.
    lo = offset
    while lo > 0 and hits[lo - 1][0] == hits[offset][0]:
        lo -= 1
    hi = end
    while hi < len(hits) and hits[hi][0] == hits[end - 1][0]:
        hi += 1
    group = hits[lo:hi]
    if any(group[i][0] == group[i + 1][0] for i in range(len(group) - 1)):
        keys = tie_keys([address for _, address in group])
        group = [h for h, _ in sorted(zip(group, keys), key=lambda hk: (-hk[0][0], hk[1]))]
    return group[offset - lo:end - lo], more


def newest(searcher: tantivy.Searcher, q: tantivy.Query, m: int, span: tuple[int, int] | None,
           since: Callable[[int], tantivy.Query]) -> Hits:
    """The m newest matches of q (published_us descending), looked for in a recent window first.
    `span`: (oldest, newest) publication time of the index; `since(t)`: the filter published_us >= t."""
    total_docs = searcher.num_docs
    if span is not None and total_docs > 0:
        oldest, latest = span
        share = WINDOW_MARGIN * m / total_docs
        while share < 1.0:
            cutoff = latest - int((latest - oldest) * share)
            window = tantivy.Query.boolean_query([(tantivy.Occur.Must, q), (tantivy.Occur.Must, since(cutoff))])
            found = searcher.search(window, m, count=True, order_by_field="published_us")
            if found.count >= m:
                return found.hits
            # Widen by what the window lacked (at least 4x), so a rare filter costs a few counts.
            share *= max(4.0, 2.0 * m / max(found.count, 1))
    return searcher.search(q, m, count=False, order_by_field="published_us").hits
