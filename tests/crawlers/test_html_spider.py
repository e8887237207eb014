"""The html kind: list/detail selectors over authored pages, the broken ones included."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crawlers.dates import SHANGHAI
from crawlers.spiders.html import select
from parsel import Selector
from tests.crawlers.fixtures.loopback import LoopbackSite, Reply, fixture
from tests.crawlers.fixtures.passes import crawl_pass, quick_settings

SELECTORS = {"item": "ul.news-list li", "link": "//a[@class='title']", "next": "a.next", "title": "h1",
             "body": "div.article-body", "author": "span.author", "published": "time, span.pubtime"}


def page(name, encoding="utf-8", declared="utf-8"):
    return Reply(body=fixture(f"html/{name}", encoding), content_type=f"text/html; charset={declared}")


@pytest.fixture
def letters():
    site = LoopbackSite({
        "/letters/": page("list1.html"),
        "/letters/list_2.html": page("list2.html"),
        "/letters/1001.html": [page("1001.html"), Reply(410, "<h1>410 Gone</h1>")],
        "/letters/1002.html": page("1002.html"),
        "/letters/1003.html": page("1003.html"),
        "/letters/gbk-as-utf8.html": page("gbk-as-utf8.html", encoding="gbk", declared="utf-8"),
        "/letters/big5-as-utf8.html": page("big5-as-utf8.html", encoding="big5", declared="utf-8"),
        "/letters/utf8-as-gbk.html": page("utf8-as-gbk.html", encoding="utf-8", declared="gbk"),
        "/letters/malformed.html": page("malformed.html"),
        "/letters/removed.html": Reply(410, "<h1>410 Gone</h1>"),
        "/letters/loop.html": Reply(302, b"", headers={"Location": "/letters/loop.html"}),
    })
    yield site
    site.stop()


def source(site):
    return {"name": "letters", "kind": "html", "url": site.base_url + "/letters/", "selectors": SELECTORS}


def test_xpath_selectors_inside_an_item_are_relative_to_the_item():
    doc = Selector(text="<ul><li><a class='t' href='a'>A</a></li><li><a class='t' href='b'>B</a></li></ul>")
    second = doc.css("li")[1]
    assert select(second, "//a[@class='t']/@href", relative=True).getall() == ["b"]
    assert select(second, "(//a)[1]/@href", relative=True).getall() == ["b"]
    assert select(doc, "//a/@href").getall() == ["a", "b"]


def test_every_listed_post_is_read_once_and_broken_pages_do_not_stop_the_pass(tmp_path, letters):
    report, posts, _ = crawl_pass(quick_settings(tmp_path), [source(letters)])
    base = letters.base_url + "/letters/"
    assert sorted(p.external_id for p in posts) == sorted(base + name for name in (
        "1001.html", "1002.html", "1003.html", "big5-as-utf8.html", "gbk-as-utf8.html",
        "malformed.html", "utf8-as-gbk.html"))
    assert letters.count("/letters/1003.html") == 1  # listed on both pages, fetched once
    assert letters.count("/letters/removed.html") == 1
    assert letters.count("/letters/loop.html") == 1  # a redirect to itself is a loop at once
    assert report.ok and report.skipped_requests == 1 and report.parse_errors >= 1


def test_pages_in_the_wrong_charset_are_read_as_written(tmp_path, letters):
    _, posts, _ = crawl_pass(quick_settings(tmp_path), [source(letters)])
    by_name = {p.external_id.rsplit("/", 1)[-1]: p for p in posts}
    assert by_name["gbk-as-utf8.html"].text == "请各位居民在本周五前把意见投到信箱。"
    assert by_name["big5-as-utf8.html"].title == "臺北市公車路線調整公告"
    assert by_name["big5-as-utf8.html"].text == "自下週一起，敬請乘客留意。這是繁體中文的內容。"
    assert by_name["utf8-as-gbk.html"].text == "老人凭卡就餐八折，欢迎大家来尝尝。"


def test_detail_fields_entities_malformed_markup_and_chinese_relative_times(tmp_path, letters):
    _, posts, _ = crawl_pass(quick_settings(tmp_path), [source(letters)])
    by_name = {p.external_id.rsplit("/", 1)[-1]: p for p in posts}
    first = by_name["1001.html"]
    assert first.title == "楼下烧烤店油烟太大，晚上没法开窗" and first.author == "住在三楼的小陈"
    assert first.text == "楼下新开的烧烤店每天营业到凌晨两点，油烟直冲楼上。\n已经向街道反映过两次，希望有关部门 尽快处理。"
    assert first.published_at == datetime(2026, 11, 21, 21, 30, tzinfo=SHANGHAI)
    hours_ago = datetime.now(timezone.utc) - by_name["1002.html"].published_at
    assert timedelta(hours=2, minutes=58) < hours_ago < timedelta(hours=3, minutes=2)
    assert by_name["1003.html"].published_at == datetime(2026, 11, 20, 19, 5, tzinfo=SHANGHAI)
    broken = by_name["malformed.html"]
    assert "路灯坏了&没人修" in broken.text and "晚上回家很黑<害怕>" in broken.text
    assert broken.author == "匿名"


def test_next_pass_skips_known_posts_and_marks_a_vanished_one_deleted_upstream(tmp_path, letters):
    settings = quick_settings(tmp_path)
    crawl_pass(settings, [source(letters)])
    report, posts, _ = crawl_pass(settings, [source(letters)])
    assert letters.count("/letters/list_2.html") == 1  # page 1 was all known: no further paging
    assert letters.count("/letters/1002.html") == 2  # re-read once as a recent post, not as a list item
    gone = [p for p in posts if p.deleted_upstream]
    assert [p.external_id for p in gone] == [letters.base_url + "/letters/1001.html"]
    assert report.ok
