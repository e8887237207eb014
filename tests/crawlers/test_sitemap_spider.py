"""The sitemap kind: sitemap indexes, lastmod filtering and main-text extraction, on loopback."""
from __future__ import annotations

import gzip
from datetime import datetime

import pytest

from crawlers.dates import SHANGHAI
from crawlers.spiders.sitemap import parse_sitemap
from tests.crawlers.fixtures.loopback import LoopbackSite, Reply, fixture
from tests.crawlers.fixtures.passes import crawl_pass, quick_settings


def xml(name):
    return Reply(body=fixture(f"sitemap/{name}"), content_type="application/xml")


def html(name):
    return Reply(body=fixture(f"sitemap/{name}"))


@pytest.fixture
def news_site():
    index = fixture("sitemap/index.xml").replace(b"2026-11-21T10:00:00", b"2026-11-21T12:00:00")
    site = LoopbackSite({
        "/sitemap_index.xml": [xml("index.xml"), Reply(body=index, content_type="application/xml")],
        "/sitemaps/news.xml": [xml("news.xml"), xml("news_v2.xml")],
        "/sitemaps/archive-truncated.xml": xml("archive-truncated.xml"),
        "/news/2026/1121/flood.html": [html("flood.html"), Reply(410, "<h1>Gone</h1>")],
        "/news/2026/1121/scam.html": html("scam.html"),
        "/news/2026/1118/library.html": html("library.html"),
        "/news/2026/1120/taken-down.html": Reply(404, "<h1>404</h1>"),
    })
    yield site
    site.stop()


def source(site):
    return {"name": "local-news", "kind": "sitemap", "url": site.base_url + "/sitemap_index.xml"}


def test_a_truncated_or_gzipped_sitemap_still_gives_its_complete_entries():
    kind, entries, errors = parse_sitemap(fixture("sitemap/archive-truncated.xml"))
    assert kind == "urlset" and errors > 0
    assert entries == [("/news/2026/1118/library.html", "2026-11-18")]  # not the half URL at the cut
    assert parse_sitemap(gzip.compress(fixture("sitemap/news.xml")))[1][0][0] == "/news/2026/1121/flood.html"


def test_index_children_and_their_pages_are_read_with_the_main_text_only(tmp_path, news_site):
    report, posts, _ = crawl_pass(quick_settings(tmp_path), [source(news_site)])
    by_path = {p.external_id.split("/news/", 1)[1]: p for p in posts}
    assert sorted(by_path) == ["2026/1118/library.html", "2026/1121/flood.html", "2026/1121/scam.html"]
    scam = by_path["2026/1121/scam.html"]
    assert scam.title == "警方提醒：冒充客服退款的电话骗局又来了"
    assert scam.author == "刘洋"
    assert "不会要求开启屏幕共享" in scam.text
    assert "热门推荐" not in scam.text and "版权所有" not in scam.text
    assert scam.published_at == datetime(2026, 11, 21, 8, 0, tzinfo=SHANGHAI)
    assert by_path["2026/1118/library.html"].published_at.date().isoformat() == "2026-11-18"
    assert report.ok and report.parse_errors >= 1  # the truncated sitemap, counted


def test_next_pass_reads_only_what_lastmod_says_changed_and_marks_the_vanished_page(tmp_path, news_site):
    settings = quick_settings(tmp_path)
    crawl_pass(settings, [source(news_site)])
    report, posts, _ = crawl_pass(settings, [source(news_site)])
    assert news_site.count("/sitemaps/archive-truncated.xml") == 1  # its lastmod is older than the mark
    assert news_site.count("/news/2026/1120/taken-down.html") == 1
    deleted = [p.external_id for p in posts if p.deleted_upstream]
    assert deleted == [news_site.base_url + "/news/2026/1121/flood.html"]
    assert news_site.base_url + "/news/2026/1121/scam.html" in {p.external_id for p in posts}
    assert report.ok
