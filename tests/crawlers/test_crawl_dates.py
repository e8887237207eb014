from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crawlers.dates import SHANGHAI, parse_feed_time, parse_forum_time

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text, expected", [
    ("2026-11-20 14:20", at(2026, 11, 20, 14, 20)),
    ("2026-11-5 9:03", at(2026, 11, 5, 9, 3)),
    ("2026-11-20", at(2026, 11, 20)),
    ("2026年11月20日 14:20", at(2026, 11, 20, 14, 20)),
    ("2026/11/20 14:20:33", at(2026, 11, 20, 14, 20, 33)),
    ("发表于 2026-11-20 14:20", at(2026, 11, 20, 14, 20)),
])
def test_absolute_forum_times_are_read_in_shanghai_time(text, expected):
    assert parse_forum_time(text, NOW) == expected


@pytest.mark.parametrize("text, expected", [
    ("3 小时前", NOW - timedelta(hours=3)),
    ("3\u00a0小时前", NOW - timedelta(hours=3)),
    ("5 分钟前", NOW - timedelta(minutes=5)),
    ("半小时前", NOW - timedelta(minutes=30)),
    ("刚刚", NOW),
    ("20 秒前", NOW - timedelta(seconds=20)),
    ("昨天 14:20", at(2026, 11, 19, 14, 20)),
    ("昨天\u00a09:05", at(2026, 11, 19, 9, 5)),
    ("前天 09:00", at(2026, 11, 18, 9, 0)),
    ("3 天前", NOW - timedelta(days=3)),
    ("发表于 2 小时前", NOW - timedelta(hours=2)),
])
def test_relative_forum_times_are_resolved_against_the_fetch_time(text, expected):
    assert parse_forum_time(text, NOW) == expected


def test_yesterday_means_yesterday_in_shanghai_even_when_it_is_still_the_day_before_in_utc():
    # 07:00 in Shanghai is 23:00 the previous day in UTC.
    fetched = datetime(2026, 11, 19, 23, 0, tzinfo=timezone.utc)
    assert parse_forum_time("昨天 14:20", fetched) == at(2026, 11, 19, 14, 20)


def test_a_page_in_another_zone_is_read_in_that_zone():
    tokyo = ZoneInfo("Asia/Tokyo")
    assert parse_forum_time("2026-11-20 14:20", NOW, tokyo).utcoffset() == timedelta(hours=9)


def test_a_month_and_day_without_year_is_never_put_in_the_future():
    january = datetime(2026, 1, 2, 10, 0, tzinfo=SHANGHAI)
    assert parse_forum_time("12-30 08:00", january) == at(2025, 12, 30, 8, 0)


@pytest.mark.parametrize("text", ["", None, "很久以前", "2026-13-45 10:00"])
def test_unreadable_times_give_none_rather_than_a_guess(text):
    assert parse_forum_time(text, NOW) is None


def test_a_naive_fetch_time_is_refused():
    with pytest.raises(ValueError):
        parse_forum_time("3 小时前", datetime(2026, 11, 20, 10, 0))


@pytest.mark.parametrize("text, expected", [
    ("Fri, 20 Nov 2026 14:20:00 +0800", at(2026, 11, 20, 14, 20)),
    ("Fri, 20 Nov 2026 06:20:00 GMT", at(2026, 11, 20, 14, 20)),
    ("2026-11-20T06:20:00Z", at(2026, 11, 20, 14, 20)),
    ("2026-11-20T14:20:00+08:00", at(2026, 11, 20, 14, 20)),
    ("2026-11-20T14:20:00", at(2026, 11, 20, 14, 20)),
])
def test_feed_times_in_rfc822_and_iso_are_timezone_aware(text, expected):
    parsed = parse_feed_time(text)
    assert parsed == expected and parsed.tzinfo is not None
