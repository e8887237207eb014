"""Property tests of the query language (hypothesis): whatever string comes in, parsing gives a
query or a QuerySyntaxError with a position inside the string, never another exception; and the
same string run as a search on a real SQLite index gives hits or that error, never a crash while
building or running the SQL. Dates anywhere in the calendar (years 1-9999, any offset, any
operator) are valid queries."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from search.index import IndexedPost, InvalidSearch, QuerySyntaxError, SearchQuery
from search.query import parse
from search.sqlite_index import SqliteIndex

# Pieces of the language, so that generated strings often come close to real queries.
PIECES = ["博彩", "网站", "加微信", "today", "OR", "or", "-", "--", "(", ")", '"', "“", "”", " ", "  ",
          "category:", "source:", "author:", "status:", "primary:", "published:", "unknown:", ":",
          ">=", "<=", ">", "<", "..", "2026-11-01", "9999-12-31", "0001-01-01", "T00:00", "T23:59:59.999999",
          "+08:00", "-14:00", "Z", "fraud", "open", "*", "^", "AND", "NOT", "\u200b", "😀", "\x00", "\n", "\t"]
ANY_CHAR = st.characters(exclude_categories=())  # every code point, lone surrogates included

QUERIES = st.one_of(
    st.text(ANY_CHAR, max_size=60),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(ANY_CHAR, max_size=3)), max_size=25).map("".join),
)

DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.just(None)).map(lambda d: d.isoformat()),
    st.tuples(st.datetimes(), st.integers(-23 * 60 - 59, 23 * 60 + 59)).map(
        lambda t: t[0].replace(tzinfo=timezone(timedelta(minutes=t[1]))).isoformat()),
)
DATE_QUERIES = st.one_of(
    st.tuples(st.sampled_from(["", ">=", "<=", ">", "<"]), DATES).map(lambda t: f"published:{t[0]}{t[1]}"),
    st.tuples(st.one_of(st.just(""), DATES), st.one_of(st.just(""), DATES)).map(
        lambda t: f"published:{t[0]}..{t[1]}"),
)


def check_error(exc: QuerySyntaxError, q: str) -> None:
    assert exc.query == q
    assert 0 <= exc.position <= len(q), (exc.position, len(q))
    assert exc.message and str(exc.position) in str(exc)


@given(QUERIES)
@settings(max_examples=400, deadline=None)
@example("published:9999-12-31")
@example("published:0001-01-01T00:00+08:00")
@example("a OR published:<=9999-12-31")
def test_any_string_parses_or_gives_a_positioned_syntax_error(q):
    try:
        parse(q)
    except QuerySyntaxError as exc:
        check_error(exc, q)


@given(DATE_QUERIES)
@settings(max_examples=300, deadline=None)
def test_every_calendar_date_parses_or_is_refused_with_a_position(q):
    for query in (q, f"博彩 {q}", f"博彩 OR {q}", f"博彩 -{q}"):
        try:
            parse(query)
        except QuerySyntaxError as exc:
            check_error(exc, query)


UTC = timezone.utc


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    idx = SqliteIndex(tmp_path_factory.mktemp("idx") / "index.sqlite")
    when = datetime(2026, 11, 1, 8, tzinfo=UTC)
    idx.add([IndexedPost(id=f"p{i}", source="city-forum", url=f"https://x.example/{i}", title="网站公告",
                         text=text, author="someone", published_at=when + timedelta(days=i), fetched_at=when,
                         primary="gambling", categories=("gambling",), status="open")
             for i, text in enumerate(["这个博彩网站可以返水", "今天天气很好", "加微信详聊"])])
    yield idx
    idx.close()


@given(st.one_of(QUERIES, DATE_QUERIES, st.tuples(QUERIES, DATE_QUERIES).map(" ".join)))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example("published:9999-12-31")
@example("博彩 OR published:<=9999-12-31")
@example("published:>9999-12-31T23:59:59.999999")
@example("author:\ud800")
def test_any_string_searches_or_gives_a_positioned_syntax_error(index, q):
    try:
        result = index.search(SearchQuery(q=q, limit=5, source="city-forum"))
    except QuerySyntaxError as exc:
        check_error(exc, q)
    except InvalidSearch:
        pass  # a request refused with a message (never the case for a bare q, but allowed by the contract)
    else:
        assert result.total >= len(result.hits)


def test_dates_at_the_calendars_edge_search_as_the_days_they_name(index):
    def total(q):
        return index.search(SearchQuery(q=q, limit=5)).total

    assert total("published:9999-12-31") == 0
    assert total("published:>=0001-01-01") == 3
    assert total("published:<=9999-12-31") == 3
    assert total("published:>9999-12-31") == 0
    assert total("published:0001-01-01..9999-12-31") == 3
    assert total("博彩 OR published:<=9999-12-31") == 3
    assert total("published:2026-11-02") == 1
