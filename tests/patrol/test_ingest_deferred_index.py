"""`Ingestor.deferred_index()`, the bulk load's indexing (patrol/ingest.py): the index is written
every N stored posts and at the end, a post is marked indexed only once it is in the index, and
an index outage or a stop mid-way leaves the posts stored and marked for the next run. Real
analyzer, real SQLite store, real tantivy index."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from nlp.analyzer import Analyzer
from patrol.alerts import load_rules
from patrol.ingest import Ingestor
from patrol.posts import RawPost
from patrol.store import Store
from search.index import IndexUnavailable, SearchQuery
from search.tantivy_index import TantivyIndex

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)


def posts(start: int, n: int) -> list[RawPost]:
    return [RawPost(source="city-forum", url=f"http://127.0.0.1/t/{i}", external_id=str(i),
                    text=f"第{i}楼：周末去人民公园看银杏，顺便吃了碗牛肉面", published_at=NOW, fetched_at=NOW,
                    content_sha256="ab" * 32) for i in range(start, start + n)]


class SwitchableIndex:
    """The real index, with a switch that makes its writes fail as a lost backend does."""

    def __init__(self, index):
        self.index, self.down, self.writes = index, False, 0

    def add(self, batch):
        if self.down:
            raise IndexUnavailable("connection refused")
        self.writes += 1
        self.index.add(batch)

    def __getattr__(self, name):
        return getattr(self.index, name)


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer.default()


@pytest.fixture
def parts(tmp_path, analyzer):
    store = Store(f"sqlite:///{tmp_path / 'patrol.db'}")
    index = SwitchableIndex(TantivyIndex(tmp_path / "index", create=True))
    yield store, index, Ingestor(store, index, analyzer, load_rules(), clock=lambda: NOW)
    index.index.close()
    store.close()


def test_posts_are_indexed_every_n_and_at_the_end_and_marked_only_then(parts):
    store, index, ingestor = parts
    with ingestor.deferred_index(every=50) as tail:
        first = ingestor.ingest(posts(0, 30))
        assert first.indexed == 0 and index.count() == 0
        assert store.counts()["posts_unindexed"] == 30        # stored, not yet marked
        second = ingestor.ingest(posts(30, 30))                # 60 >= 50: written now
        assert second.indexed == 60 and index.count() == 60
        third = ingestor.ingest(posts(60, 10))
        assert third.indexed == 0
    assert tail.indexed == 10 and tail.index_pending == 0
    assert index.count() == 70 and store.counts()["posts_unindexed"] == 0
    assert index.writes == 2                                   # two commits for 70 posts, not three
    assert index.search(SearchQuery(q="银杏")).total == 70
    # Outside the block, each batch is indexed at once, as the crawl path needs.
    assert ingestor.ingest(posts(70, 5)).indexed == 5


def test_an_index_outage_keeps_the_posts_marked_and_the_next_run_writes_them(parts):
    store, index, ingestor = parts
    index.down = True
    with ingestor.deferred_index(every=20) as tail:
        assert ingestor.ingest(posts(0, 25)).index_pending == 25
    # The end of the block tries again, and says what still waits (the command prints it).
    assert tail.indexed == 0 and tail.index_pending == 25
    assert store.counts()["posts_unindexed"] == 25
    index.down = False
    with ingestor.deferred_index(every=1000) as tail:
        report = ingestor.ingest(posts(25, 5))
    assert report.indexed == 0 and tail.indexed == 30          # the leftovers are drained at the end
    assert index.count() == 30 and store.counts()["posts_unindexed"] == 0


def test_a_block_left_by_an_error_writes_no_more_and_the_next_block_drains_what_was_stored(parts):
    store, index, ingestor = parts
    with pytest.raises(KeyboardInterrupt):
        with ingestor.deferred_index(every=1000):
            ingestor.ingest(posts(0, 40))
            raise KeyboardInterrupt
    assert index.count() == 0 and store.counts()["posts_unindexed"] == 40
    with ingestor.deferred_index() as tail:
        again = ingestor.ingest(posts(0, 40))                  # the same file again
    assert (again.new, again.unchanged) == (0, 40)
    assert tail.indexed == 40 and index.count() == 40 and store.counts()["posts_unindexed"] == 0
    with pytest.raises(RuntimeError, match="already open"):
        with ingestor.deferred_index(), ingestor.deferred_index():
            pass
