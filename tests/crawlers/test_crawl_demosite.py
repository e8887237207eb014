"""Real crawls of the bundled demo site on loopback: the forum boards and the news feed."""
import re
from datetime import datetime, timedelta

import pytest

from crawlers.dates import SHANGHAI
from crawlers.state import CrawlState
from demosite import DemoSite
from demosite.discuz_pages import relative
from demosite.sources import BOARD_SOURCE_NAMES, demo_sources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory, make_settings, crawl):
    """Two passes over the demo site with the same state directory, shared by the tests below."""
    # The site's clock is frozen at the start; the crawl follows within seconds.
    site = DemoSite(now=datetime.now(SHANGHAI))
    site.start()
    settings = make_settings(tmp_path_factory.mktemp("home"))
    entries = demo_sources(site)
    first_report, posts = crawl(settings, entries)
    requests_after_first = len(site.requests)
    second_report, second_posts = crawl(settings, entries)
    yield {
        "site": site, "settings": settings, "report": first_report, "posts": posts,
        "by_id": {(p.source, p.external_id): p for p in posts},
        "second_report": second_report, "second_posts": second_posts,
        "second_requests": site.requests[requests_after_first:],
    }
    site.stop()


def floors(site):
    for thread, floor in site.catalogue.all_floors():
        yield BOARD_SOURCE_NAMES[thread.fid], thread, floor


def test_every_floor_of_every_thread_is_collected_exactly_once(demo):
    site, posts = demo["site"], demo["posts"]
    forum_posts = [p for p in posts if p.source != "demo-news"]
    expected = {(source, f"{t.tid}-{f.pid}") for source, t, f in floors(site)}
    assert len(forum_posts) == len(expected)
    assert {(p.source, p.external_id) for p in forum_posts} == expected


def test_floors_on_later_pages_of_long_threads_are_present(demo):
    site, by_id = demo["site"], demo["by_id"]
    per_page = site.catalogue.posts_per_page
    long_threads = [t for t in site.catalogue.threads.values() if len(t.floors) > per_page]
    assert long_threads, "the demo content must have multi-page threads"
    for thread in long_threads:
        source = BOARD_SOURCE_NAMES[thread.fid]
        last = thread.floors[-1]
        assert by_id[(source, f"{thread.tid}-{last.pid}")].text == last.text


def test_post_text_is_the_authors_words_without_quotes_jammer_noise_or_edit_notes(demo):
    by_id = demo["by_id"]
    for source, thread, floor in floors(demo["site"]):
        post = by_id[(source, f"{thread.tid}-{floor.pid}")]
        if not floor.blocked:
            assert post.text == floor.text, (thread.tid, floor.pid)
        assert post.author == floor.author


def test_chinese_on_the_gbk_board_is_decoded_right(demo):
    market = [p for p in demo["posts"] if p.source == "demo-market"]
    assert market
    guns = next(p for p in market if p.title.startswith("出售仿真枪"))
    assert "仿真枪" in guns.text and "\ufffd" not in guns.text
    # An emoji cannot be GBK; the board sends it as &#128039; and it must come back as 🐧.
    assert any("🐧" in p.text for p in market)
    assert not any("\ufffd" in p.text for p in demo["posts"])


def test_the_opening_floor_carries_the_thread_title(demo):
    site, by_id = demo["site"], demo["by_id"]
    thread = next(t for t in site.catalogue.threads.values() if len(t.floors) > 2)
    source = BOARD_SOURCE_NAMES[thread.fid]
    assert by_id[(source, f"{thread.tid}-{thread.floors[0].pid}")].title == thread.title
    assert by_id[(source, f"{thread.tid}-{thread.floors[1].pid}")].title == ""


def test_published_times_are_resolved_to_the_minute_or_to_what_the_page_says(demo):
    site, by_id = demo["site"], demo["by_id"]
    for source, thread, floor in floors(site):
        post = by_id[(source, f"{thread.tid}-{floor.pid}")]
        assert post.published_at is not None and post.published_at.tzinfo is not None
        phrase = relative(floor.posted, site.now()) or ""
        board = site.catalogue.boards[thread.fid]
        if board.relative_titles or not phrase or "昨天" in phrase or "前天" in phrase:
            tolerance = timedelta(minutes=0)
        elif "天前" in phrase:
            tolerance = timedelta(days=1)
        elif "小时前" in phrase:
            tolerance = timedelta(hours=1)
        else:
            tolerance = timedelta(minutes=2)
        delta = post.published_at - floor.posted
        assert abs(delta) <= tolerance + timedelta(minutes=1), (phrase, post.published_at, floor.posted)


def test_relative_times_on_the_board_without_titles_were_really_exercised(demo):
    site = demo["site"]
    phrases = [relative(f.posted, site.now()) or "" for _, t, f in floors(site) if t.fid == 36]
    assert any("小时前" in p for p in phrases) and any("昨天" in p or "前天" in p or "天前" in p for p in phrases)


def test_every_post_carries_the_hash_of_what_was_fetched(demo):
    for post in demo["posts"]:
        assert re.fullmatch(r"[0-9a-f]{64}", post.content_sha256)


def test_a_floor_hidden_by_the_forum_is_reported_as_deleted_upstream(demo):
    blocked = [(s, t, f) for s, t, f in floors(demo["site"]) if f.blocked]
    assert blocked
    for source, thread, floor in blocked:
        post = demo["by_id"][(source, f"{thread.tid}-{floor.pid}")]
        assert post.deleted_upstream and post.text == ""


def test_news_items_carry_full_text_from_the_feed_or_from_the_article_page(demo):
    news = {p.title: p for p in demo["posts"] if p.source == "demo-news"}
    catalogue_news = demo["site"].catalogue.news
    assert len(news) == len(catalogue_news)
    for item in catalogue_news:
        post = news[item.title]
        for paragraph in item.paragraphs:
            assert paragraph in post.text
        assert "相关新闻" not in post.text and "版权所有" not in post.text
        assert post.published_at == item.published
        assert post.author == item.author


def test_the_report_counts_pages_items_and_no_errors(demo):
    report = demo["report"]
    assert set(report.sources) == set(BOARD_SOURCE_NAMES.values()) | {"demo-news"}
    for entry in report.sources.values():
        assert entry.ok and entry.items > 0 and entry.pages_fetched > 1
        assert entry.parse_errors == 0 and entry.http_errors == 0
        assert entry.ingested == entry.items
    assert report.items == len(demo["posts"])


def test_robots_txt_is_read_and_the_crawl_stays_out_of_disallowed_paths(demo):
    requests = demo["site"].requests
    assert "/robots.txt" in requests
    assert not any(r.startswith("/admin") for r in requests)


def test_a_second_pass_fetches_no_unchanged_thread_and_gets_304_for_the_feed(demo):
    assert demo["second_posts"] == []
    assert not any("mod=viewthread" in r for r in demo["second_requests"])
    assert demo["second_report"].sources["demo-news"].ok
    assert CrawlState.open(demo["settings"]).load("demo-market")


def test_floors_record_their_thread_and_answer_the_first_floor_and_each_page_is_carried_once(demo):
    site, by_id, posts = demo["site"], demo["by_id"], demo["posts"]
    from patrol.posts import sha256_hex

    for source, thread, f in floors(site):
        p = by_id[(source, f"{thread.tid}-{f.pid}")]
        assert p.thread_id == str(thread.tid)
        first = thread.floors[0].pid
        assert p.parent_external_id == ("" if f.pid == first else f"{thread.tid}-{first}")
    forum = [p for p in posts if p.source != "demo-news"]
    carried = [p for p in forum if p.page_body]
    # One floor per fetched page carries it, and it hashes to what every floor of that page says.
    assert len({p.content_sha256 for p in carried}) == len(carried) == len({p.content_sha256 for p in forum})
    assert all(sha256_hex(p.page_body) == p.content_sha256 for p in carried)
