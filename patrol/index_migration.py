"""`patrol index migrate`: a new version of the Elasticsearch index filled from the workflow
database, then the alias moved to it in one atomic step (search/elastic_schema.py for the layout).

The store is the record, so the new version is built from it, not copied from the old index (whose
_source lacks the token fields, and whose tokens may be of an older segmenter):

1. `begin_migration()`: the next version, empty (a half-filled one from an interrupted run is
   deleted first; it was never served).
2. every stored post, with its alert status, in pages (`on_progress(n)` after each);
3. catch-up: the posts stored, edited or fetched again since step 2 began (crawlers keep writing
   to the old version through the alias meanwhile);
4. the status of every post alert again, for reviews made during the copy;
5. `finish_migration()`: the alias moves; readers switch at once; the old version is kept for a
   rollback (or deleted when asked).

If the run stops anywhere before 5, the alias still points at the old version, which keeps
serving: nothing is lost, and running the command again starts over. What is written in the
moment between 4 and 5 lands only in the old version: run it when the crawlers are quiet, or
run `patrol reindex` after a crawl pass restarts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from patrol.ingest import to_indexed
from patrol.store import AlertFilter

PAGE = 1000


@dataclass
class MigrationReport:
    old: str | None
    new: str
    copied: int
    caught_up: int
    statuses: int


def migrate_index(store, index, *, delete_old: bool = False,
                  on_progress: Callable[[int], None] | None = None,
                  clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> MigrationReport:
    """`index`: an ElasticIndex (begin_migration, add_to, set_statuses_in, finish_migration)."""
    new = index.begin_migration()
    started = clock()
    copied = _copy(store, index, new, store.iter_posts(page_size=PAGE), on_progress)
    caught_up = _copy(store, index, new, store.iter_posts(page_size=PAGE, fetched_since=started), None)
    statuses = 0
    cursor = None
    while True:
        page = store.list_alerts(AlertFilter(sort="oldest", limit=500, cursor=cursor))
        pairs = [(a.post_id, a.status) for a in page.items if a.post_id is not None]
        if pairs:
            index.set_statuses_in(new, pairs)
            statuses += len(pairs)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    old = index.finish_migration(new, delete_old=delete_old)
    return MigrationReport(old=old, new=new, copied=copied, caught_up=caught_up, statuses=statuses)


def _copy(store, index, target: str, posts, on_progress) -> int:
    n, page = 0, []
    for post in posts:
        page.append(post)
        if len(page) >= PAGE:
            n += _write(store, index, target, page, on_progress)
            page = []
    if page:
        n += _write(store, index, target, page, on_progress)
    return n


def _write(store, index, target, page, on_progress) -> int:
    statuses = store.alert_statuses([p.id for p in page])
    index.add_to(target, [to_indexed(p, statuses.get(p.id, "")) for p in page])
    if on_progress is not None:
        on_progress(len(page))
    return len(page)
