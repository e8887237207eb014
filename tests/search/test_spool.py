"""The durable spool in front of a remote index: an index that fails in the middle of a batch loses
nothing, and the spool replays in order, once, when it is back, also after a restart.

The remote index is stood in for by a real SqliteIndex behind a switch that can cut it off in the
middle of a batch (the first posts of the batch written, then IndexUnavailable, as when a cluster
drops the connection halfway through a _bulk request): Elasticsearch itself cannot run here."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from search.index import IndexedPost, IndexUnavailable, SearchQuery
from search.spool import SpooledIndex
from search.sqlite_index import SqliteIndex

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def post(i: int, text: str = "", status: str = "") -> IndexedPost:
    return IndexedPost(id=f"p{i}", source="blog", url=f"https://example.cn/{i}", title=f"标题{i}",
                       text=text or f"网上博彩第{i}号", author="a", published_at=T0 + timedelta(minutes=i),
                       fetched_at=T0 + timedelta(minutes=i), status=status)


class Flaky:
    """A real index that can be cut off: `fail_after` posts of the next add go in, then it raises."""

    def __init__(self, path):
        self.inner = SqliteIndex(path)
        self.down = False
        self.fail_after: int | None = None
        self.calls: list[tuple] = []

    def add(self, posts):
        if self.down:
            raise IndexUnavailable("cluster down")
        if self.fail_after is not None:
            self.inner.add(list(posts)[:self.fail_after])
            self.fail_after, self.down = None, True
            raise IndexUnavailable("connection reset in the middle of the bulk request")
        self.calls.append(("add", tuple(p.id for p in posts)))
        self.inner.add(posts)

    def set_status(self, post_id, status):
        if self.down:
            raise IndexUnavailable("cluster down")
        self.calls.append(("status", post_id, status))
        self.inner.set_status(post_id, status)

    def search(self, query):
        if self.down:
            raise IndexUnavailable("cluster down")
        return self.inner.search(query)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def remote(tmp_path):
    flaky = Flaky(tmp_path / "remote.db")
    yield flaky
    flaky.inner.close()


def test_an_index_failing_mid_batch_loses_nothing_and_the_spool_replays_in_order_once(tmp_path, remote):
    spool = SpooledIndex(lambda: remote, tmp_path / "spool.sqlite")
    spool.add([post(i) for i in range(3)])                      # a healthy batch
    remote.fail_after = 2
    spool.add([post(i) for i in range(3, 8)])                   # p3, p4 go in, then the cluster drops
    assert spool.pending() == 5                                 # the whole batch is kept, not just the rest
    spool.set_status("p1", "claimed")                           # a review while it is down
    spool.add([post(4, text="网上博彩改过的第二版")])               # an edit while it is down
    spool.set_status("p4", "confirmed")                         # ...and a decision on the edited post
    assert spool.pending() == 8
    with pytest.raises(IndexUnavailable):
        spool.search(SearchQuery(q="博彩"))                     # reads need the cluster, and say so

    remote.down = False
    assert spool.replay() == 8
    assert spool.pending() == 0
    result = remote.inner.search(SearchQuery(q="博彩", limit=100, facets=False, highlight=False))
    assert sorted(h.id for h in result.hits) == [f"p{i}" for i in range(8)]   # each post once
    assert result.total == 8
    assert remote.inner.get("p4").text == "网上博彩改过的第二版"                 # the later version won
    assert remote.inner.get("p4").status == "confirmed"                       # status after the edit, in order
    assert remote.inner.get("p1").status == "claimed"
    # replayed in the order written: the batch, the status, the edit, then its status
    assert remote.calls[1:] == [("add", ("p3", "p4", "p5", "p6", "p7")), ("status", "p1", "claimed"),
                                ("add", ("p4",)), ("status", "p4", "confirmed")]


def test_while_anything_is_spooled_a_new_write_waits_behind_it_so_no_older_write_overtakes_it(tmp_path, remote):
    spool = SpooledIndex(lambda: remote, tmp_path / "spool.sqlite")
    remote.down = True
    spool.add([post(1, text="网上博彩旧版")])
    remote.down = False
    spool.add([post(1, text="网上博彩新版")])   # drains the old version first, then writes the new one
    assert remote.inner.get("p1").text == "网上博彩新版"
    assert remote.calls == [("add", ("p1",)), ("add", ("p1",))]
    assert spool.pending() == 0


def test_the_spool_survives_a_restart_of_the_process(tmp_path, remote):
    path = tmp_path / "spool.sqlite"
    first = SpooledIndex(lambda: remote, path)
    remote.down = True
    first.add([post(i) for i in range(4)])
    first.set_status("p2", "claimed")
    first._db.close()                           # the process ends with the cluster still down

    remote.down = False
    second = SpooledIndex(lambda: remote, path)
    assert second.pending() == 5
    assert second.replay() == 5
    assert remote.inner.count() == 4
    assert remote.inner.get("p2").status == "claimed"


def test_an_index_that_cannot_even_be_opened_is_spooled_for_and_opened_again_later(tmp_path, remote):
    opened = []

    def open_index():
        if not opened:
            opened.append("refused")
            raise IndexUnavailable("no route to the cluster")
        opened.append("ok")
        return remote

    spool = SpooledIndex(open_index, tmp_path / "spool.sqlite")
    spool.add([post(1)])
    assert spool.pending() == 1
    spool.add([post(2)])
    assert opened == ["refused", "ok"]
    assert spool.pending() == 0 and remote.inner.count() == 2


def test_a_post_the_index_would_refuse_is_refused_at_once_not_at_replay(tmp_path, remote):
    spool = SpooledIndex(lambda: remote, tmp_path / "spool.sqlite")
    remote.down = True
    naive = replace(post(1), published_at=datetime(2026, 11, 1))
    with pytest.raises(ValueError, match="p1.*timezone-aware"):
        spool.add([naive])
    assert spool.pending() == 0
