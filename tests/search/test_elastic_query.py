"""The Elasticsearch translation of the query AST, checked without a cluster, and the index's
behaviour when no cluster answers. The behaviour against a live cluster is the contract suite's
job (tests/search/test_index_contract.py with PATROL_TEST_ES_URL)."""
from __future__ import annotations

import socket
from datetime import datetime, timezone

import pytest

from search.elastic_index import MAPPINGS, SETTINGS
from search.elastic_query import TEXT_FIELDS, WORD_FIELDS, search_query
from search.index import IndexUnavailable
from search.query import parse
from search.times import epoch_us

UTC = timezone.utc


def es(q: str, **filters) -> dict:
    return search_query(parse(q, has_filters=bool(filters)).root, **filters)


def word(token: str) -> dict:
    return {"multi_match": {"query": token, "fields": WORD_FIELDS, "type": "best_fields"}}


def phrase(*tokens: str) -> dict:
    return {"multi_match": {"query": " ".join(tokens), "fields": TEXT_FIELDS, "type": "phrase"}}


def test_an_empty_query_matches_everything():
    assert es("") == {"match_all": {}}


def test_a_word_queries_the_word_and_part_fields_with_the_title_boosted_and_the_normalised_text_below_the_body():
    assert es("博彩") == word("博彩")
    assert WORD_FIELDS == ["title_tokens^3", "body_tokens", "norm_tokens^0.8",
                           "title_parts^1.5", "body_parts^0.5", "norm_parts^0.4"]


def test_a_phrase_queries_only_the_word_fields_where_tokens_are_consecutive_text():
    assert TEXT_FIELDS == ["title_tokens^3", "body_tokens", "norm_tokens^0.8"]
    assert es("今天天气") == phrase("今天", "天气")


def test_a_word_that_segments_into_several_tokens_is_a_phrase_query():
    assert es("博彩网站") == phrase("博彩", "网站")
    assert es('"博彩 网站"') == phrase("博彩", "网站")


def test_words_filters_and_exclusions_land_in_must_filter_and_must_not():
    assert es("博彩 category:gambling -代理 source:city-forum") == {"bool": {
        "must": [word("博彩")],
        "filter": [{"term": {"categories": "gambling"}}, {"term": {"source": "city-forum"}}],
        "must_not": [word("代理")],
    }}


def test_or_is_a_should_that_needs_one_match():
    assert es("博彩 OR 赌博") == {"bool": {"should": [word("博彩"), word("赌博")], "minimum_should_match": 1}}


def test_an_excluded_group_is_negated_whole():
    assert es("网上 -(赌博 OR 押金)") == {"bool": {
        "must": [word("网上")],
        "must_not": [{"bool": {"should": [word("赌博"), word("押金")], "minimum_should_match": 1}}],
    }}


def test_dates_filter_the_same_integer_microseconds_as_sqlite():
    start = datetime(2026, 11, 1, tzinfo=UTC)
    end = datetime(2026, 11, 6, tzinfo=UTC)
    assert es("published:2026-11-01..2026-11-05") == {
        "range": {"published_us": {"gte": epoch_us(start), "lt": epoch_us(end)}}}


def test_request_filters_are_added_to_the_query_filters():
    q = es("博彩 -代理", category="gambling", source="blog", published_from=datetime(2026, 11, 1, tzinfo=UTC))
    assert q == {"bool": {
        "must": [word("博彩")],
        "must_not": [word("代理")],
        "filter": [{"term": {"categories": "gambling"}}, {"term": {"source": "blog"}},
                   {"range": {"published_us": {"gte": epoch_us(datetime(2026, 11, 1, tzinfo=UTC))}}}],
    }}


def test_request_filters_wrap_an_or_rather_than_merging_into_it():
    q = es("博彩 OR 赌博", source="blog")
    assert q == {"bool": {"must": [es("博彩 OR 赌博")], "filter": [{"term": {"source": "blog"}}]}}


def test_only_exclusions_with_request_filters_exclude_from_those_filters():
    assert es("-代理", source="blog") == {"bool": {"must_not": [word("代理")],
                                                 "filter": [{"term": {"source": "blog"}}]}}


def test_the_token_fields_are_split_on_whitespace_only():
    assert SETTINGS["analysis"]["analyzer"]["patrol_tokens"] == {"type": "custom", "tokenizer": "whitespace"}
    for name in ("title_tokens", "body_tokens", "title_parts", "body_parts", "norm_tokens", "norm_parts"):
        assert MAPPINGS["properties"][name]["analyzer"] == "patrol_tokens"
        assert name in MAPPINGS["_source"]["excludes"]


def test_every_field_a_query_names_is_in_the_mapping():
    # The mapping is strict: a query naming a field it lacks would quietly match nothing.
    for field in WORD_FIELDS + TEXT_FIELDS:
        assert field.split("^")[0] in MAPPINGS["properties"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_cluster_is_reported_as_unavailable_with_its_url():
    from search.elastic_index import ElasticIndex

    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(IndexUnavailable, match=url.replace(".", r"\.")):
        ElasticIndex(url, "patrol-posts", request_timeout=2)
