"""The discourse kind against an authored forum API on loopback, broken topics included."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.crawlers.fixtures.loopback import LoopbackSite, Reply, json_reply
from tests.crawlers.fixtures.passes import crawl_pass, quick_settings


def latest(path, headers):
    if headers.get("if-none-match") == '"latest-v1"':
        return Reply(304, b"", headers={"ETag": '"latest-v1"'})
    return json_reply("discourse/latest.json", ETag='"latest-v1"')


@pytest.fixture
def forum():
    site = LoopbackSite(
        routes={
            "/latest.json": latest,
            "/latest.json?no_definitions=true&page=1": json_reply("discourse/latest_p1.json"),
            "/t/7.json": json_reply("discourse/t_7.json"),
            "/t/101.json": json_reply("discourse/t_101.json"),
            "/t/102.json": json_reply("discourse/t_102.json"),
            "/t/103.json": Reply(404, '{"errors":["The requested URL or resource could not be found."]}', "application/json"),
            "/t/104.json": [Reply(502, "<h1>502 Bad Gateway</h1>"), json_reply("discourse/t_104.json")],
        },
        fallback=lambda path, headers: json_reply("discourse/t_101_posts.json") if path.startswith("/t/101/posts.json?") else None,
    )
    yield site
    site.stop()


def source(site):
    return {"name": "neighbours", "kind": "discourse", "url": site.base_url, "max_pages": 5}


def test_every_post_of_every_topic_is_read_including_those_beyond_the_first_twenty(tmp_path, forum):
    report, posts, _ = crawl_pass(quick_settings(tmp_path), [source(forum)])
    ids = {p.external_id for p in posts}
    assert {str(1000 + n) for n in range(1, 24)} <= ids  # 20 in /t/101.json, 3 more from posts.json
    assert {"70", "2001", "2002", "4001"} <= ids
    assert len(posts) == len(ids) == 27
    assert report.ok


def test_a_deleted_topic_and_a_502_do_not_stop_the_pass(tmp_path, forum):
    report, posts, _ = crawl_pass(quick_settings(tmp_path), [source(forum)])
    assert forum.count("/t/103.json") == 1  # 404 is an answer: no retry
    assert forum.count("/t/104.json") == 2  # 502 then success
    assert "4001" in {p.external_id for p in posts}
    assert report.http_errors == 1


def test_posts_carry_topic_title_handle_floor_url_and_only_the_authors_words(tmp_path, forum):
    _, posts, _ = crawl_pass(quick_settings(tmp_path), [source(forum)])
    by_id = {p.external_id: p for p in posts}
    first = by_id["1001"]
    assert first.title == "小区门口的电动车充电桩又坏了"
    assert first.url == f"{forum.base_url}/t/topic-101/101/1"
    assert first.published_at == datetime(2026, 11, 19, 2, 0, tzinfo=timezone.utc)
    quoting = by_id["1002"]
    assert quoting.title == "" and quoting.author == "momo_2019"
    assert quoting.text == "打 12345 反映吧"
    assert by_id["2001"].text == "孩子 5 岁，想找 周末&免费的活动。"
    assert by_id["2002"].deleted_upstream and by_id["2002"].text == ""


def test_an_unchanged_forum_costs_one_conditional_request(tmp_path, forum):
    settings = quick_settings(tmp_path)
    crawl_pass(settings, [source(forum)])
    topics_before = sum(1 for h in forum.hits if h.path.startswith("/t/"))
    report, posts, _ = crawl_pass(settings, [source(forum)])
    assert posts == []
    assert forum.hits_for("/latest.json")[-1].headers.get("if-none-match") == '"latest-v1"'
    assert sum(1 for h in forum.hits if h.path.startswith("/t/")) == topics_before
    assert report.ok
