"""The mastodon kind: public and hashtag timelines paged by the Link header, on loopback."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crawlers.spiders._api import link_header
from tests.crawlers.fixtures.loopback import LoopbackSite, Reply, json_reply
from tests.crawlers.fixtures.passes import crawl_pass, quick_settings

PAGE_1 = "/api/v1/timelines/public?limit=40"
PAGE_2 = "/api/v1/timelines/public?limit=40&max_id=113500000000000250"


@pytest.fixture
def instance():
    site = LoopbackSite()
    link = f'<{site.base_url}{PAGE_2}>; rel="next", <{site.base_url}/api/v1/timelines/public?limit=40&min_id=113500000000000300>; rel="prev"'
    site.routes.update({
        PAGE_1: [json_reply("mastodon/public_p1.json", Link=link), json_reply("mastodon/public_p1_later.json", Link=link)],
        # Rate limited once: the server says when to come back, and the crawler does.
        PAGE_2: [Reply(429, '{"error":"Too many requests"}', "application/json", {"Retry-After": "1"}),
                 json_reply("mastodon/public_p2.json")],
        "/api/v1/timelines/tag/%E5%8D%97%E5%B1%B1?limit=40": json_reply("mastodon/public_p2.json"),
    })
    yield site
    site.stop()


def source(site, **extra):
    return {"name": "social", "kind": "mastodon", "url": site.base_url, **extra}


def test_link_header_gives_each_relation_its_url():
    header = '<https://m.example/api?max_id=9>; rel="next", <https://m.example/api?min_id=12>; rel="prev"'
    assert link_header(header) == {"next": "https://m.example/api?max_id=9", "prev": "https://m.example/api?min_id=12"}
    assert link_header(None) == {}


def test_timeline_pages_follow_the_link_header_and_wait_out_a_429(tmp_path, instance):
    report, posts, _ = crawl_pass(quick_settings(tmp_path), [source(instance)])
    assert [p.external_id for p in posts] == [
        "113500000000000300", "113499000000000100", "113500000000000200", "113500000000000100"]
    assert instance.count(PAGE_2) == 2
    assert report.ok


def test_a_status_is_text_with_its_handle_and_a_boost_is_the_boosted_status(tmp_path, instance):
    _, posts, _ = crawl_pass(quick_settings(tmp_path), [source(instance)])
    first, boosted = posts[0], posts[1]
    assert first.text == "今天爬了南山，山顶风很大。\n下山路上看到有人在卖野生穿山甲肉，已经拍照打了 110。\n#南山\n山顶的风景"
    assert first.author == "@hiker"
    assert first.published_at == datetime(2026, 11, 21, 4, 20, tzinfo=timezone.utc)
    assert boosted.author == "@cook@other.example.org" and boosted.title == "食谱"
    assert boosted.text == "冬天的萝卜炖牛腩 & 一点点陈皮。"
    assert boosted.url == "https://other.example.org/@cook/998"


def test_next_pass_stops_paging_at_the_newest_status_already_read(tmp_path, instance):
    settings = quick_settings(tmp_path)
    crawl_pass(settings, [source(instance)])
    _, posts, _ = crawl_pass(settings, [source(instance)])
    assert [p.external_id for p in posts] == ["113500000000000400"]
    assert instance.count(PAGE_2) == 2  # not asked again


def test_a_hashtag_timeline_is_read_from_the_tag_endpoint(tmp_path, instance):
    _, posts, _ = crawl_pass(quick_settings(tmp_path), [source(instance, tag="#南山")])
    assert [p.external_id for p in posts] == ["113500000000000200", "113500000000000100"]
