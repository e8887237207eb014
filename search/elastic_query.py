"""The query AST as an Elasticsearch bool query, for search/elastic_index.py. Pure: no client here.

Text nodes query the pre-segmented token fields (whitespace analyzer), so ES sees exactly the tokens
FTS5 sees: one token is a `best_fields` match over the word and sub-word part fields, several a
`phrase` match over the word fields only (parts are not consecutive text; see search/tokens.py).
Title fields are boosted like the SQLite bm25 title weight, part fields below their word fields, the
normalised text's fields (菠.菜 read as 博彩) a bit below the body's: each word or phrase matches
where the original or the normalised text says it, and `best_fields` scores it by the best field
only, so a post is not counted twice for saying a word in both. Filters run in filter context
so that, as in SQLite, only words affect the score. Dates filter on `published_us`, the same integer
microseconds the SQLite index compares, so both are exact to the microsecond.
"""
from __future__ import annotations

from datetime import datetime

from search.query import And, DateRange, Field, Node, Not, Or, Text
from search.times import epoch_us

TITLE_BOOST = 3
PART_BOOST = 0.5
NORMALISED_BOOST = 0.8
TEXT_FIELDS = [f"title_tokens^{TITLE_BOOST}", "body_tokens", f"norm_tokens^{NORMALISED_BOOST}"]
WORD_FIELDS = TEXT_FIELDS + [f"title_parts^{TITLE_BOOST * PART_BOOST}", f"body_parts^{PART_BOOST}",
                             f"norm_parts^{NORMALISED_BOOST * PART_BOOST}"]


def text_query(node: Text) -> dict:
    if len(node.tokens) > 1:
        return {"multi_match": {"query": " ".join(node.tokens), "fields": TEXT_FIELDS, "type": "phrase"}}
    return {"multi_match": {"query": node.tokens[0], "fields": WORD_FIELDS, "type": "best_fields"}}


def field_query(name_attribute: str, value: str) -> dict:
    return {"term": {name_attribute: value}}


def date_query(start: datetime | None, end: datetime | None) -> dict:
    bounds = {}
    if start is not None:
        bounds["gte"] = epoch_us(start)
    if end is not None:
        bounds["lt"] = epoch_us(end)
    return {"range": {"published_us": bounds}}


def node_query(node: Node) -> dict:
    if isinstance(node, Text):
        return text_query(node)
    if isinstance(node, Field):
        return field_query(node.attribute, node.value)
    if isinstance(node, DateRange):
        return date_query(node.start, node.end)
    if isinstance(node, Not):
        return {"bool": {"must_not": [node_query(node.child)]}}
    if isinstance(node, Or):
        return {"bool": {"should": [node_query(c) for c in node.children], "minimum_should_match": 1}}
    if isinstance(node, And):
        bool_: dict[str, list] = {}
        for child in node.children:
            if isinstance(child, Not):
                bool_.setdefault("must_not", []).append(node_query(child.child))
            elif isinstance(child, (Field, DateRange)):
                bool_.setdefault("filter", []).append(node_query(child))
            else:
                bool_.setdefault("must", []).append(node_query(child))
        return {"bool": bool_}
    raise TypeError(f"unknown node: {node!r}")


def search_query(root: Node | None, *, category: str | None = None, source: str | None = None,
                 published_from: datetime | None = None, published_to: datetime | None = None) -> dict:
    """The whole `query` of a search request: the parsed `q` plus the request's own filters."""
    filters = []
    if category is not None:
        filters.append(field_query("categories", category))
    if source is not None:
        filters.append(field_query("source", source))
    if published_from is not None or published_to is not None:
        filters.append(date_query(published_from, published_to))
    if root is None:
        return {"bool": {"filter": filters}} if filters else {"match_all": {}}
    query = node_query(root)
    if not filters:
        return query
    if "bool" in query and set(query["bool"]) <= {"must", "must_not", "filter"}:
        merged = {k: list(v) for k, v in query["bool"].items()}
        merged.setdefault("filter", []).extend(filters)
        return {"bool": merged}
    return {"bool": {"must": [query], "filter": filters}}


HISTOGRAM_INTERVALS = ("hour", "day", "week", "month")


def histogram_aggregation(interval: str, time_zone: str = "UTC") -> dict:
    """A date_histogram over publication times in calendar `interval`s, in `time_zone` (a day
    of the duty office is a day in its zone), empty buckets included so a quiet day shows as 0."""
    if interval not in HISTOGRAM_INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(HISTOGRAM_INTERVALS)}, got {interval!r}")
    return {"date_histogram": {"field": "published_day", "calendar_interval": interval,
                               "time_zone": time_zone, "min_doc_count": 0}}
