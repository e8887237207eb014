"""What only a live Elasticsearch can show: the alias over versioned indexes, a migration moving it,
a cursor of the old version refused, bulk retries and date histograms against the real cluster.

Runs only when PATROL_TEST_ES_URL points at a cluster (none can be installed on the development
machine, so these were NOT run there; README, "What the tests run against")."""
from __future__ import annotations

import os
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from search.index import BadCursor, IndexedPost, SearchQuery

ES_URL = os.environ.get("PATROL_TEST_ES_URL")
pytestmark = [pytest.mark.es,
              pytest.mark.skipif(not ES_URL, reason="PATROL_TEST_ES_URL is not set: no Elasticsearch to test against")]
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def post(i: int, status: str = "") -> IndexedPost:
    return IndexedPost(id=f"p{i}", source="blog", url=f"https://example.cn/{i}", title=f"标题{i}",
                       text=f"网上博彩第{i}号", author="a", published_at=T0 + timedelta(hours=6 * i),
                       fetched_at=T0, status=status)


@pytest.fixture
def es():
    from search.elastic_index import ElasticIndex

    index = ElasticIndex(ES_URL, f"patrol-live-{uuid.uuid4().hex[:10]}", refresh=True, replicas=0)
    yield index
    # by name: ES 8 refuses wildcard deletes (action.destructive_requires_name)
    for name in index.client.indices.get(index=f"{index.index_name}-v*", ignore_unavailable=True).body:
        index.client.indices.delete(index=name)
    index.client.options(ignore_status=404).indices.delete_index_template(name=f"{index.index_name}-template")
    index.close()


def test_the_configured_name_is_an_alias_over_version_one_made_from_the_template(es):
    assert es.current == f"{es.index_name}-v1" and es.version == 1
    assert es.client.indices.exists_alias(name=es.index_name)
    mapping = es.client.indices.get_mapping(index=es.current)[es.current]["mappings"]
    assert mapping["_meta"]["patrol_layout"] == 2 and mapping["properties"]["categories"]["type"] == "keyword"


def test_a_migration_moves_the_alias_and_the_old_versions_cursor_is_refused(es):
    es.add([post(i) for i in range(30)])
    first = es.search(SearchQuery(q="博彩", limit=10))
    assert first.total == 30 and first.next_cursor
    new = es.begin_migration()
    es.add_to(new, [post(i) for i in range(30)])
    old = es.finish_migration(new)
    assert old.endswith("-v1") and es.current == new and es.count() == 30
    with pytest.raises(BadCursor, match="rebuilt"):
        es.search(replace(SearchQuery(q="博彩", limit=10), cursor=first.next_cursor))


def test_an_unfinished_migration_serves_the_old_version_and_is_started_over(es):
    es.add([post(i) for i in range(5)])
    new = es.begin_migration()
    es.add_to(new, [post(0)])            # interrupted here
    assert es.count() == 5               # readers still see v1
    again = es.begin_migration()         # the next run deletes the half-filled version
    assert again == new and es.client.count(index=new)["count"] == 0


def test_day_histogram_counts_matches_per_day_with_empty_days(es):
    es.add([post(i) for i in range(12)])   # every 6 hours: 4 a day over 3 days
    days = es.histogram(SearchQuery(q="博彩"), "day")
    assert [n for _, n in days] == [4, 4, 4]
    assert days[0][0] == T0


def test_status_updates_for_missing_posts_are_ignored_and_others_applied(es):
    es.add([post(1)])
    es.set_status("p1", "claimed")
    es.set_status("nope", "claimed")
    assert es.get("p1").status == "claimed"
