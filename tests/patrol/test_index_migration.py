"""`patrol index migrate`'s steps (patrol/index_migration.py) over a real store: every post copied
with its alert status, the posts written meanwhile caught up, and an interrupted run leaves the
alias where it was, the old version serving, until a second run completes.

Elasticsearch cannot run here, so its alias and versions are stood in for by real SqliteIndex
files, one per version, and a pointer for the alias; what ElasticIndex sends for the same steps is
unit-tested in tests/search/test_elastic_requests.py and run live by the contract suite."""
from __future__ import annotations

from datetime import timedelta

import pytest

from patrol.index_migration import migrate_index
from patrol.store import PostRecord
from search.index import IndexUnavailable, SearchQuery
from search.sqlite_index import SqliteIndex


class Versions:
    """An alias over versioned indexes, with the migration calls ElasticIndex has."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.versions = {"v1": SqliteIndex(tmp_path / "v1.db")}
        self.current = "v1"
        self.fail_on_page: int | None = None
        self.pages = 0

    def begin_migration(self) -> str:
        new = f"v{int(self.current[1:]) + 1}"  # as ElasticIndex: the serving version + 1
        if new in self.versions:  # half-filled by an interrupted run: deleted first
            self.versions.pop(new).close()
            (self.tmp / f"{new}.db").unlink()
        self.versions[new] = SqliteIndex(self.tmp / f"{new}.db")
        return new

    def add_to(self, target, posts):
        self.pages += 1
        if self.pages == self.fail_on_page:
            raise IndexUnavailable("the cluster went away mid-migration")
        self.versions[target].add(posts)

    def set_statuses_in(self, target, pairs):
        for post_id, status in pairs:
            self.versions[target].set_status(post_id, status)

    def finish_migration(self, new, delete_old=False):
        old, self.current = self.current, new
        return old

    def serving(self) -> SqliteIndex:
        return self.versions[self.current]


def _fill(store, make, rules, n: int, start: int = 0) -> list[PostRecord]:
    from patrol.alerts import evaluate_rules

    records, alerts = [], []
    for i in range(start, start + n):
        raw = make.raw(f"m{i:05d}", text=f"出冰，同城面交，加薇 {i}" if i % 3 == 0 else f"今天天气不错 {i}")
        analysis = make.analysis("drugs") if i % 3 == 0 else make.analysis()
        records.append(PostRecord.from_raw(raw, analysis))
        alert = evaluate_rules(raw, analysis, rules, make.now) if i % 3 == 0 else None
        if alert:
            alerts.append(alert)
    store.save_batch(records, alerts, make.now)
    return records


@pytest.fixture
def versions(tmp_path):
    v = Versions(tmp_path)
    yield v
    for index in v.versions.values():
        index.close()


def test_a_migration_copies_every_post_with_its_status_and_moves_the_alias(store, make, rules, versions, monkeypatch):
    import patrol.index_migration as migration

    monkeypatch.setattr(migration, "PAGE", 7)
    _fill(store, make, rules, 30)
    alert = store.list_alerts().items[0]
    store.claim(alert.id, store.add_user("olga", "officer", "pw-olga-1234"), make.now)
    seen = []
    report = migrate_index(store, versions, on_progress=seen.append, clock=lambda: make.now - timedelta(days=1))
    assert (report.old, report.new, report.copied) == ("v1", "v2", 30)
    assert sum(seen) == 30 and max(seen) == 7
    assert report.caught_up == 30   # every post was fetched after the (back-dated) start
    assert versions.current == "v2" and versions.serving().count() == 30
    assert versions.serving().get(alert.post_id).status == "claimed"
    assert report.statuses == 10
    hits = versions.serving().search(SearchQuery(q="面交", limit=100)).total
    assert hits == 10


def test_an_interrupted_migration_leaves_the_old_version_serving_and_a_rerun_completes(store, make, rules, versions,
                                                                                       monkeypatch):
    import patrol.index_migration as migration

    monkeypatch.setattr(migration, "PAGE", 5)
    _fill(store, make, rules, 20)
    versions.versions["v1"].add([])  # the old version, empty but serving
    versions.fail_on_page = 3
    with pytest.raises(IndexUnavailable, match="mid-migration"):
        migrate_index(store, versions)
    assert versions.current == "v1"                       # the alias did not move
    assert versions.versions["v2"].count() == 10          # half filled, never served
    versions.fail_on_page = None
    report = migrate_index(store, versions)
    assert report.new == "v2" and versions.current == "v2"
    assert versions.serving().count() == 20               # the half-filled copy was started over


def test_posts_stored_during_the_copy_are_caught_up(store, make, rules, versions, monkeypatch):
    import patrol.index_migration as migration

    monkeypatch.setattr(migration, "PAGE", 5)
    _fill(store, make, rules, 10, start=100)
    late = []

    def meanwhile(n):
        if not late:  # a crawler stores a post whose id sorts before the copy's position
            late.extend(_fill(store, make, rules, 1, start=0))
    clock_calls = iter([make.now - timedelta(seconds=1)])
    report = migrate_index(store, versions, on_progress=meanwhile, clock=lambda: next(clock_calls))
    assert versions.serving().get(late[0].id) is not None
    assert versions.serving().count() == 11
    assert report.caught_up >= 1
