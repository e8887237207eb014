"""Broken pages are counted and logged, and the crawl goes on: authored fixture pages on loopback."""
import time

import pytest

from crawl_fixture_site import FixtureSite, Reply

pytestmark = pytest.mark.slow

THREAD = "/forum.php?mod=viewthread&tid=%d"


@pytest.fixture(scope="module")
def forum(fixture_site_module, bytes_of, make_settings, crawl, tmp_path_factory):
    ok = bytes_of("thread_ok.html")
    busy_ok = ok.replace(b"post_51", b"post_61").replace(b"authorposton51", b"authorposton61").replace(
        b"postmessage_51", b"postmessage_61").replace("坏页面之后".encode(), "等待之后".encode())
    site = fixture_site_module({
        "/robots.txt": Reply(body=b"User-agent: *\nAllow: /\n", content_type="text/plain"),
        "/forum.php?mod=forumdisplay&fid=9": Reply(body=bytes_of("list.html")),
        # GBK bytes under a UTF-8 declaration (header and meta both wrong).
        THREAD % 1: Reply(body=bytes_of("thread_wrong_charset.html", "gbk")),
        THREAD % 2: Reply(body=bytes_of("thread_malformed.html")),
        THREAD % 3: Reply(404, b"<h1>404 Not Found</h1>"),
        THREAD % 4: Reply(body=bytes_of("thread_broken_template.html")),
        THREAD % 5: Reply(body=ok),
        THREAD % 6: [Reply(503, b"busy", headers={"Retry-After": "1"}), Reply(body=busy_ok)],
    })
    settings = make_settings(tmp_path_factory.mktemp("home"))
    started = time.monotonic()
    report, posts = crawl(settings, [{"name": "broken-forum", "kind": "discuz",
                                      "url": site.base_url + "/forum.php?mod=forumdisplay&fid=9"}])
    return {"report": report.sources["broken-forum"], "posts": {p.external_id: p for p in posts},
            "elapsed": time.monotonic() - started, "site": site}


def test_a_page_with_the_wrong_declared_charset_still_comes_out_right(forum):
    post = forum["posts"]["1-11"]
    assert post.text == "这个页面声明的是 UTF-8，实际发的是 GBK 字节，中文必须还原正确。"
    assert post.author == "老站长" and post.title == "编码声明错误的帖子"


def test_malformed_html_is_read_as_far_as_it_goes(forum):
    assert forum["posts"]["2-21"].text.startswith("第一行\n第二行 加粗没闭合")
    assert forum["posts"]["2-22"].text == "回复也要能读出来"


def test_a_page_without_the_expected_structure_is_counted_as_a_parse_error(forum):
    assert forum["report"].parse_errors == 1
    assert not any(key.startswith("4-") for key in forum["posts"])


def test_a_missing_page_is_counted_as_an_http_error(forum):
    assert forum["report"].http_errors == 1


def test_the_crawl_goes_on_after_broken_pages(forum):
    assert forum["posts"]["5-51"].text == "坏页面之后的帖子照样抓到。"
    assert forum["report"].finish_reason == "finished"


def test_a_server_asking_to_retry_after_a_second_is_waited_for_and_retried(forum):
    assert forum["posts"]["6-61"].text == "等待之后的帖子照样抓到。"
    assert forum["site"].hits[THREAD % 6] == 2
    assert forum["elapsed"] >= 1.0


@pytest.fixture(scope="module")
def fixture_site_module():
    sites = []

    def make(routes):
        site = FixtureSite(routes)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.stop()


@pytest.fixture(scope="module")
def feeds(fixture_site_module, bytes_of, make_settings, crawl, tmp_path_factory):
    site = fixture_site_module({
        "/robots.txt": Reply(body=b"User-agent: *\nAllow: /\n", content_type="text/plain"),
        "/truncated.xml": Reply(body=bytes_of("feed_truncated.xml"), content_type="application/rss+xml"),
        "/atom.xml": Reply(body=bytes_of("feed_atom.xml"), content_type="application/atom+xml"),
        "/garbage.xml": Reply(body=b"<html><body>not a feed</body></html>", content_type="text/html"),
        "/articles/3.html": Reply(body=bytes_of("article.html")),
    })
    settings = make_settings(tmp_path_factory.mktemp("home"))
    report, posts = crawl(settings, [
        {"name": "truncated", "kind": "rss", "url": site.base_url + "/truncated.xml"},
        {"name": "atom", "kind": "rss", "url": site.base_url + "/atom.xml"},
        {"name": "garbage", "kind": "rss", "url": site.base_url + "/garbage.xml"},
    ])
    return {"report": report, "posts": {(p.source, p.external_id): p for p in posts}}


def test_a_truncated_feed_keeps_the_entries_before_the_damage_and_counts_the_damage(feeds):
    posts = feeds["posts"]
    assert posts[("truncated", "news-1")].text == "第一条的全文在订阅源里。"
    assert feeds["report"].sources["truncated"].parse_errors >= 1


def test_an_entry_whose_article_is_gone_keeps_the_feed_summary_and_counts_the_error(feeds):
    assert posts_text(feeds, "truncated", "news-2") == "第二条的摘要：文章页已经删除。"
    assert feeds["report"].sources["truncated"].http_errors == 1


def posts_text(feeds, source, external_id):
    return feeds["posts"][(source, external_id)].text


def test_atom_entries_are_read_with_their_content_author_and_time(feeds):
    post = feeds["posts"][("atom", "urn:uuid:entry-1")]
    assert post.text == "Atom 条目的全文。\n第二段。"
    assert post.author == "编辑部" and post.published_at.isoformat() == "2026-11-20T06:20:00+00:00"


def test_something_that_is_not_a_feed_is_one_parse_error_and_other_sources_still_run(feeds):
    assert feeds["report"].sources["garbage"].parse_errors == 1
    assert feeds["report"].sources["atom"].items == 1
