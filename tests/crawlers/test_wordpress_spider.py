"""The wordpress kind against an authored REST API on loopback."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from patrol.store import PostRecord, Store
from tests.crawlers.fixtures.loopback import LoopbackSite, Reply, fixture
from tests.crawlers.fixtures.passes import crawl_pass, quick_settings


def wp_api(pages: dict[str, list[bytes]], total_pages: dict[str, int]):
    """A fallback route for /wp-json/wp/v2/<endpoint>?page=N; each page's list of bodies is served in turn."""
    served: dict[tuple[str, int], int] = {}

    def route(path, headers):
        parts = urlsplit(path)
        if not parts.path.startswith("/wp-json/wp/v2/"):
            return None
        endpoint = parts.path.rsplit("/", 1)[-1]
        page = int(parse_qs(parts.query).get("page", ["1"])[0])
        bodies = pages.get(f"{endpoint}:{page}")
        if not bodies:
            return Reply(400, '{"code":"rest_post_invalid_page_number"}', "application/json")
        turn = served.get((endpoint, page), 0)
        served[(endpoint, page)] = turn + 1
        return Reply(body=bodies[min(turn, len(bodies) - 1)], content_type="application/json; charset=UTF-8",
                     headers={"X-WP-TotalPages": str(total_pages[endpoint]), "X-WP-Total": "4"})

    return route


@pytest.fixture
def blog():
    site = LoopbackSite(fallback=wp_api(
        {"posts:1": [fixture("wordpress/posts_p1.json"), fixture("wordpress/posts_p1_edited.json")],
         "posts:2": [fixture("wordpress/posts_p2.json")],
         "comments:1": [fixture("wordpress/comments_p1.json")]},
        {"posts": 2, "comments": 1},
    ))
    yield site
    site.stop()


def source(site):
    return {"name": "life-blog", "kind": "wordpress", "url": site.base_url + "/", "interval": "10m"}


def pages_requested(site, endpoint):
    return sorted(int(parse_qs(urlsplit(h.path).query)["page"][0]) for h in site.hits if f"/wp/v2/{endpoint}?" in h.path)


def test_first_pass_reads_every_post_page_and_the_comments(tmp_path, blog):
    report, posts, _ = crawl_pass(quick_settings(tmp_path), [source(blog)])
    by_id = {p.external_id: p for p in posts}
    assert sorted(by_id) == ["comment-9030", "comment-9031", "post-505", "post-509", "post-511", "post-512"]
    assert pages_requested(blog, "posts") == [1, 2]  # X-WP-TotalPages says 2: no page 3
    assert report.ok and report.items == 6


def test_post_fields_are_clean_text_with_an_aware_time(tmp_path, blog):
    _, posts, _ = crawl_pass(quick_settings(tmp_path), [source(blog)])
    post = next(p for p in posts if p.external_id == "post-512")
    assert post.title == "“停水通知”：滨江路片区周六检修"
    assert "8:00–18:00 停水检修" in post.text and "track()" not in post.text
    assert post.author == "社区小编"
    assert post.url == "https://life.example.cn/2026/11/21/water-outage/"
    assert post.published_at == datetime(2026, 11, 21, 1, 14, tzinfo=timezone.utc)
    assert len(post.content_sha256) == 64
    comment = next(p for p in posts if p.external_id == "comment-9031")
    assert comment.author == "老街坊" and "垫付" in comment.text


def test_second_pass_brings_only_the_edited_post_as_a_new_version(tmp_path, blog):
    store = Store(f"sqlite:///{tmp_path / 'wf.db'}")

    def ingest(batch):
        store.save_batch([PostRecord.from_raw(r) for r in batch], [], datetime.now(timezone.utc))

    settings = quick_settings(tmp_path)
    crawl_pass(settings, [source(blog)], ingest)
    report, posts, _ = crawl_pass(settings, [source(blog)], ingest)

    assert [p.external_id for p in posts] == ["post-511"]
    assert pages_requested(blog, "posts") == [1, 1, 2]  # page 2 holds only known posts: not fetched again
    assert store.classify_changes(posts) == ["unchanged"]
    (edited,) = posts
    versions = store.post_versions(edited.id)
    assert [v.version for v in versions] == [1, 2]
    assert store.counts()["posts"] == 6
