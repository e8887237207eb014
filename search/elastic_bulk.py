"""Bulk writes to Elasticsearch that retry what the cluster could not take, and only that.

A `_bulk` response says per item whether it went in (ES docs, "Bulk API", response body:
`{"took", "errors", "items": [{"index": {"_id", "status", "error"?}}]}`). Items refused with 429
(the write queue is full) or a 5xx (a shard moving, a node leaving) are sent again, alone, after
a backoff; items refused for what they are (a 400 mapping error) are not: sending them again
cannot help, and the error names the post. When retries run out the batch raises
IndexUnavailable, and the caller keeps the posts (the spool, search/spool.py, or the store's
unindexed marks). Re-sending an item that did go in is harmless: every document's `_id` is the
post id, so a repeat replaces it, never duplicates it.
"""
from __future__ import annotations

import time
from typing import Callable, Sequence

from search.index import IndexUnavailable, SearchError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF = 0.5  # seconds, doubled at each try


def bulk_with_retries(send: Callable[[list[dict]], dict], actions: Sequence[tuple[dict, dict | None]], *,
                      retries: int = DEFAULT_RETRIES, backoff: float = DEFAULT_BACKOFF,
                      sleep: Callable[[float], None] = time.sleep, where: str = "Elasticsearch") -> int:
    """Send `actions` ((action line, source or None), in order) through `send` (one `_bulk` call:
    the flat operations list → the response body); returns how many items were written.

    Order is kept: a retried subset goes in its original order, and every action of one batch
    concerns a different document (the index dedups a batch by post id first), so retrying some
    items after others went in cannot reorder two writes of the same post.
    """
    pending = list(actions)
    written = 0
    for attempt in range(retries + 1):
        operations: list[dict] = []
        for action, source in pending:
            operations.append(action)
            if source is not None:
                operations.append(source)
        response = send(operations)
        items = response.get("items") or []
        if len(items) != len(pending):
            raise IndexUnavailable(f"{where} answered {len(items)} bulk items for {len(pending)} sent")
        again: list[tuple[dict, dict | None]] = []
        refused: list[tuple[str, dict]] = []
        for (action, source), item in zip(pending, items):
            result = next(iter(item.values()))
            status = int(result.get("status", 500))
            if status < 300 or (status == 404 and "update" in item and _is_missing_document(result)):
                written += status < 300
                continue
            if status in RETRY_STATUSES:
                again.append((action, source))
            else:
                refused.append((str(result.get("_id")), result.get("error") or {}))
        if refused:
            post_id, error = refused[0]
            raise SearchError(f"{where} refused {len(refused)} of {len(pending)} post(s); first {post_id!r}: "
                              f"{error.get('type', '')}: {error.get('reason', error)}")
        if not again:
            return written
        pending = again
        if attempt < retries:
            sleep(backoff * (2 ** attempt))
    raise IndexUnavailable(f"{where} still refused {len(pending)} post(s) after {retries} retries "
                           f"(429/5xx: the cluster is overloaded or recovering)")


def _is_missing_document(result: dict) -> bool:
    """A status update for a post not (yet) in the index: add() carries the status when it comes."""
    return (result.get("error") or {}).get("type") == "document_missing_exception"
