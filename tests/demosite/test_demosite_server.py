"""The demo site serves realistic Discuz pages, a feed and robots.txt, with content fit for the demo."""
import json
import re
import urllib.error
import urllib.request
from datetime import datetime, timedelta

import pytest

from crawlers.dates import SHANGHAI
from demosite import DemoSite
from demosite.catalogue import CONTENT_DIR
from demosite.discuz_pages import relative
from demosite.sources import demo_sources
from crawlers.sources import parse_sources

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=SHANGHAI)
CATEGORIES = {"self_harm", "violence_terror", "weapons", "drugs", "fraud", "gambling",
              "porn_sexual", "illicit_ads", "pii_leak", "abuse_hate"}


@pytest.fixture(scope="module")
def site():
    with DemoSite(now=NOW) as running:
        yield running


def get(site, path, headers=None):
    request = urllib.request.Request(site.base_url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_robots_txt_allows_the_forum_and_disallows_admin(site):
    status, _, body = get(site, "/robots.txt")
    assert status == 200 and b"Disallow: /admin/" in body and b"Allow: /" in body
    assert get(site, "/admin/")[0] == 403


def test_the_gbk_board_is_served_in_gbk_with_header_and_meta_saying_so(site):
    status, headers, body = get(site, "/forum.php?mod=forumdisplay&fid=36")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=gbk"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("gbk")
    assert '<meta charset="gbk" />' in text and "二手市场" in text


def test_list_pages_use_discuz_markup_and_paginate(site):
    _, _, body = get(site, "/forum.php?mod=forumdisplay&fid=2")
    html = body.decode("utf-8")
    assert re.search(r'<tbody id="stickthread_\d+">', html)
    assert re.search(r'<tbody id="normalthread_\d+">', html)
    assert 'class="s xst"' in html and '<a href="forum.php?mod=forumdisplay&amp;fid=2&amp;page=2" class="nxt">下一页</a>' in html


def test_thread_pages_have_floors_and_later_pages(site):
    thread = next(t for t in site.catalogue.threads.values() if len(t.floors) > site.catalogue.posts_per_page)
    _, _, body = get(site, f"/forum.php?mod=viewthread&tid={thread.tid}&page=2")
    html = body.decode(site.catalogue.boards[thread.fid].charset)
    pid = thread.floors[site.catalogue.posts_per_page].pid
    assert f'<div id="post_{pid}">' in html and f'id="postmessage_{pid}"' in html
    assert f'<em id="authorposton{pid}">发表于' in html


def test_a_missing_thread_gets_discuzs_message_page(site):
    status, _, body = get(site, "/forum.php?mod=viewthread&tid=99999")
    assert status == 200 and "指定的主题不存在或已被删除" in body.decode("utf-8")


@pytest.mark.parametrize("ago, phrase", [
    (timedelta(minutes=5), "5&nbsp;分钟前"),
    (timedelta(minutes=40), "半小时前"),
    (timedelta(hours=3), "3&nbsp;小时前"),
    (timedelta(hours=20), "昨天&nbsp;19:00"),
    (timedelta(days=4), "4&nbsp;天前"),
])
def test_recent_times_are_printed_as_discuz_prints_them(ago, phrase):
    assert relative(NOW - ago, NOW) == phrase


def test_the_feed_has_full_text_items_and_link_only_items_and_honours_etag(site):
    status, headers, body = get(site, "/news/rss.xml")
    xml = body.decode("utf-8")
    assert status == 200 and xml.count("<item>") == len(site.catalogue.news)
    assert 0 < xml.count("<content:encoded>") < xml.count("<item>")
    assert get(site, "/news/rss.xml", {"If-None-Match": headers["ETag"]})[0] == 304
    status, _, article = get(site, "/news/article/2.html")
    assert status == 200 and "刷单返利" in article.decode("utf-8")


def test_the_content_is_a_few_hundred_posts_mostly_harmless_with_every_category():
    site = DemoSite(now=NOW)
    floors = [f for _, f in site.catalogue.all_floors()]
    labels = [f.label for f in floors] + [n.label for n in site.catalogue.news]
    assert 300 <= len(labels) <= 400
    assert labels.count("none") > 0.75 * len(labels)
    assert CATEGORIES <= set(labels)


def test_the_doxxing_post_uses_a_checksum_valid_synthetic_id_number():
    site = DemoSite(now=NOW)
    text = next(f.text for _, f in site.catalogue.all_floors() if f.label == "pii_leak")
    number = re.search(r"\d{17}[\dX]", text).group(0)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    assert "10X98765432"[sum(int(d) * w for d, w in zip(number, weights)) % 11] == number[-1]


def test_rows_taken_from_datasets_come_only_from_shippable_ones():
    for line in (CONTENT_DIR / "threads.jsonl").read_text(encoding="utf-8").splitlines():
        for origin in json.loads(line).get("origin", {}).values():
            assert origin.split(":")[0] in ("cold", "swsr")


def test_demo_sources_are_valid_sources_entries(site):
    sources = parse_sources({"sources": demo_sources(site)})
    assert [s.kind for s in sources].count("discuz") == len(site.catalogue.boards)
    assert [s.kind for s in sources].count("rss") == 1
