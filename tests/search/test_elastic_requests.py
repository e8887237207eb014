"""The requests ElasticIndex sends, checked against the bodies the Elasticsearch reference documents
(Search API: sort, search_after, track_total_hits, aggs; Index templates; Aliases API; Bulk API
responses), without a cluster: none can run on the development machine. What a live cluster does
with them is the contract suite's job when PATROL_TEST_ES_URL is set."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from search import cursor as cursors
from search.elastic_bulk import bulk_with_retries
from search.elastic_index import FACET_SIZE, TRACK_TOTAL_HITS, ElasticIndex, check_cursor_version, search_body
from search.elastic_query import WORD_FIELDS, histogram_aggregation
from search.elastic_schema import (
    LAYOUT, MAPPINGS, index_template, move_alias_actions, template_name, version_name, version_of,
)
from search.index import BadCursor, IndexUnavailable, SearchError, SearchQuery
from search.query import parse
from search.tokens import DEFAULT_SEGMENTER


def body(q: str, **kw) -> dict:
    query = SearchQuery(q=q, **kw)
    return search_body(parse(q).root if q else None, query, None)


def test_a_search_asks_for_one_hit_more_than_the_page_sorted_by_score_then_time_then_id():
    b = body("博彩", limit=20)
    assert b["size"] == 21  # the extra hit says whether there is a next page
    assert b["sort"] == [{"_score": "desc"}, {"published_us": "desc"}, {"id": "asc"}]
    assert b["query"] == {"multi_match": {"query": "博彩", "fields": WORD_FIELDS, "type": "best_fields"}}
    assert "search_after" not in b


def test_totals_are_exact_up_to_ten_thousand_like_elasticsearchs_default():
    assert body("博彩")["track_total_hits"] == TRACK_TOTAL_HITS == 10_000


def test_facets_are_terms_aggregations_on_the_keyword_fields_and_can_be_left_out():
    assert body("博彩")["aggs"] == {"category": {"terms": {"field": "categories", "size": FACET_SIZE}},
                                   "source": {"terms": {"field": "source", "size": FACET_SIZE}}}
    assert "aggs" not in body("博彩", facets=False)


def test_the_next_page_continues_after_the_last_sort_key_with_search_after():
    query = SearchQuery(q="博彩")
    b = search_body(parse("博彩").root, query, [3.5, 1_700_000_000_000_000, "abc"])
    assert b["search_after"] == [3.5, 1_700_000_000_000_000, "abc"]


def _walk(tree):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield key
            yield from _walk(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _walk(value)


@pytest.mark.parametrize("q", ["博彩", 'a OR b', '"title:x OR *:*"', "(赌博 OR 押金) -代理 category:fraud",
                               '"博彩 网站"', "NOT AND OR_ \\ { } [ ] ~ ^ * ? / +", "published:2026-11-01.."])
def test_no_user_text_reaches_query_string_or_any_query_parser(q):
    b = body(q)
    keys = set(_walk(b["query"]))
    assert not keys & {"query_string", "simple_query_string", "script", "regexp", "wildcard"}
    # user text only ever appears as the `query` of a multi_match, or a term value, never as syntax
    assert keys <= {"bool", "must", "must_not", "filter", "should", "minimum_should_match", "multi_match",
                    "query", "fields", "type", "term", "categories", "source", "range", "published_us",
                    "gte", "lt", "match_all", "author", "status", "primary"}


def test_the_histogram_is_a_calendar_date_histogram_on_the_date_field_with_empty_buckets():
    assert histogram_aggregation("day", "Asia/Shanghai") == {"date_histogram": {
        "field": "published_day", "calendar_interval": "day", "time_zone": "Asia/Shanghai", "min_doc_count": 0}}
    assert MAPPINGS["properties"]["published_day"]["type"] == "date"
    with pytest.raises(ValueError, match="interval must be one of"):
        histogram_aggregation("fortnight")


def test_the_template_covers_every_version_and_carries_settings_mappings_and_the_layout():
    t = index_template("patrol-posts", shards=6, replicas=2)
    assert t["index_patterns"] == ["patrol-posts-v*"]
    assert t["template"]["settings"]["number_of_shards"] == 6
    assert t["template"]["settings"]["number_of_replicas"] == 2
    assert t["template"]["settings"]["analysis"]["analyzer"]["patrol_tokens"]["tokenizer"] == "whitespace"
    assert t["template"]["mappings"]["_meta"] == {"patrol_layout": LAYOUT}
    assert t["template"]["mappings"]["properties"]["categories"] == {"type": "keyword"}
    assert template_name("patrol-posts") == "patrol-posts-template"
    json.dumps(t)  # the client sends it as JSON


def test_versions_are_named_after_the_alias_and_read_back():
    assert version_name("patrol-posts", 3) == "patrol-posts-v3"
    assert version_of("patrol-posts", "patrol-posts-v3") == 3
    assert version_of("patrol-posts", "patrol-posts") is None
    assert version_of("patrol-posts", "patrol-posts-old-v3") is None


def test_moving_the_alias_is_one_atomic_call_removing_the_old_and_adding_the_new_as_write_index():
    assert move_alias_actions("patrol-posts", "patrol-posts-v1", "patrol-posts-v2") == [
        {"remove": {"index": "patrol-posts-v1", "alias": "patrol-posts"}},
        {"add": {"index": "patrol-posts-v2", "alias": "patrol-posts", "is_write_index": True}}]
    assert move_alias_actions("patrol-posts", None, "patrol-posts-v1") == [
        {"add": {"index": "patrol-posts-v1", "alias": "patrol-posts", "is_write_index": True}}]


def _index_at(version: int) -> ElasticIndex:
    """An ElasticIndex serving `version`, for what it decides without a request."""
    index = ElasticIndex.__new__(ElasticIndex)
    index.index_name, index.current, index.segmenter = "patrol-posts", version_name("patrol-posts", version), \
        DEFAULT_SEGMENTER
    return index


def test_a_cursor_from_an_older_index_version_is_refused_with_a_clear_answer():
    query = SearchQuery(q="博彩")
    old_page = replace(query, cursor=cursors.encode(query, [1.0, 5, "abc", 2]))
    parsed, after, version = _index_at(3)._checked(old_page)
    assert (after, version) == ([1.0, 5, "abc"], 2)   # search_after gets the sort key only
    with pytest.raises(BadCursor, match=r"rebuilt \(version 2 → 3\).*first page"):
        check_cursor_version(version, 3)
    check_cursor_version(2, 2)


def test_a_cursor_of_the_old_three_part_form_is_refused():
    query = SearchQuery(q="博彩")
    with pytest.raises(BadCursor, match="does not fit"):
        _index_at(1)._checked(replace(query, cursor=cursors.encode(query, [1.0, 5, "abc"])))


# ---------------------------------------------------------------------------- bulk responses

def actions(*ids: str) -> list[tuple[dict, dict]]:
    return [({"index": {"_index": "patrol-posts", "_id": i}}, {"id": i}) for i in ids]


def item(post_id: str, status: int, error: dict | None = None, op: str = "index") -> dict:
    result = {"_index": "patrol-posts-v1", "_id": post_id, "status": status}
    if error:
        result["error"] = error
    return {op: result}


class Cluster:
    """Answers each bulk call with the next documented response body, recording what was sent."""

    def __init__(self, *responses: dict):
        self.responses = list(responses)
        self.sent: list[list[str]] = []

    def __call__(self, operations: list[dict]) -> dict:
        self.sent.append([op["index"]["_id"] for op in operations if "index" in op])
        return self.responses.pop(0)


def test_items_the_cluster_was_too_busy_for_are_sent_again_alone_in_order():
    cluster = Cluster(
        {"took": 3, "errors": True, "items": [item("a", 201), item("b", 429, {"type": "es_rejected_execution_exception"}),
                                              item("c", 200), item("d", 503, {"type": "unavailable_shards_exception"})]},
        {"took": 1, "errors": False, "items": [item("b", 201), item("d", 201)]})
    waits: list[float] = []
    assert bulk_with_retries(cluster, actions("a", "b", "c", "d"), sleep=waits.append, backoff=0.5) == 4
    assert cluster.sent == [["a", "b", "c", "d"], ["b", "d"]]
    assert waits == [0.5]


def test_a_post_the_mapping_refuses_is_named_and_not_retried():
    cluster = Cluster({"took": 1, "errors": True, "items": [
        item("a", 201), item("bad", 400, {"type": "mapper_parsing_exception", "reason": "failed to parse [published_us]"})]})
    with pytest.raises(SearchError, match="refused 1 of 2 post.*'bad'.*mapper_parsing_exception.*published_us"):
        bulk_with_retries(cluster, actions("a", "bad"), sleep=lambda s: None)
    assert len(cluster.sent) == 1


def test_a_cluster_that_stays_overloaded_makes_the_batch_unavailable_so_it_is_kept():
    busy = {"took": 1, "errors": True, "items": [item("a", 429, {"type": "es_rejected_execution_exception"})]}
    cluster = Cluster(*[busy] * 3)
    waits: list[float] = []
    with pytest.raises(IndexUnavailable, match="still refused 1 post.*after 2 retries"):
        bulk_with_retries(cluster, actions("a"), retries=2, backoff=1, sleep=waits.append)
    assert waits == [1, 2]


def test_a_status_update_for_a_post_not_yet_indexed_is_not_an_error():
    cluster = Cluster({"took": 1, "errors": True, "items": [
        item("x", 404, {"type": "document_missing_exception"}, op="update")]})
    assert bulk_with_retries(cluster, [({"update": {"_id": "x"}}, {"doc": {"status": "claimed"}})],
                             sleep=lambda s: None) == 0


def test_an_answer_with_the_wrong_number_of_items_is_not_taken_for_success():
    with pytest.raises(IndexUnavailable, match="1 bulk items for 2 sent"):
        bulk_with_retries(Cluster({"errors": False, "items": [item("a", 201)]}), actions("a", "b"))
