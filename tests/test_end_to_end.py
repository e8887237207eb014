"""The main job end to end: the bundled demo site served on loopback, a real Scrapy crawl, the real
analyzer, the SQLite stores, and the API served by uvicorn on a real port, driven over HTTP."""
from __future__ import annotations

import httpx
import pytest

from api.main import create_app
from demosite.server import DemoSite
from demosite.sources import BOARD_SOURCE_NAMES
from app.bootstrap import build_services
from app.demo import crawl_demo_site, ensure_demo_user
from patrol.posts import post_id_for
from patrol.settings import Settings
from patrol.store import AlertFilter
from tests.live_server import live_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    home = tmp_path_factory.mktemp("patrol-home")
    # Explicit Nones: a PATROL_* variable in the environment must not point the test elsewhere.
    settings = Settings(home=home, database_url=None, elasticsearch_url=None, redis_url=None)
    services = build_services(settings)
    site = DemoSite()
    site.start()
    report = crawl_demo_site(services, site)
    ensure_demo_user(services, "127.0.0.1")

    with live_app(create_app(services)) as base_url:
        client = httpx.Client(base_url=base_url, timeout=20)
        token = client.post("/api/auth/token", data={"username": "demo", "password": "demo"}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield site, services, report, client
        client.close()
    site.stop()
    services.close()


def _all_alerts(client) -> list[dict]:
    items, cursor = [], None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/alerts", params=params).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def test_every_post_on_the_demo_site_is_crawled_and_stored_once(demo):
    site, services, report, _ = demo
    floors = site.catalogue.all_floors()
    expected = len(floors) + len(site.catalogue.news)
    assert report.new_posts + report.deleted_upstream == expected
    assert services.store.counts()["posts"] == expected
    assert services.index.count() == expected


def test_the_harmful_demo_posts_raise_alerts_and_the_harmless_ones_almost_never(demo):
    site, services, _, client = demo
    alerted = {a["post_id"] for a in _all_alerts(client)}
    # The queue lists a group's lead only; its members (near-duplicates, same contact, same
    # thread) are alerts about their posts too.
    alerted |= {a.post_id for a in services.store.list_alerts(AlertFilter(members=True, limit=500)).items}
    floors = [(post_id_for(BOARD_SOURCE_NAMES[t.fid], f"{t.tid}-{f.pid}"), f) for t, f in site.catalogue.all_floors()]
    harmful = [(pid, f) for pid, f in floors if f.label != "none"]
    harmless = [(pid, f) for pid, f in floors if f.label == "none"]
    missed = [(f.label, f.text[:30]) for pid, f in harmful if pid not in alerted]
    false_alarms = [f.text[:30] for pid, f in harmless if pid in alerted]
    # The demo content is labelled by hand; the classifier must find nearly all of it.
    assert len(missed) <= len(harmful) // 10, f"missed: {missed}"
    assert len(false_alarms) <= len(harmless) // 50, f"false alarms: {false_alarms}"


def test_posts_from_the_gbk_board_are_decoded_and_found_by_chinese_words(demo):
    site, _, _, client = demo
    gbk_fids = [b.fid for b in site.catalogue.boards.values() if b.charset.lower() == "gbk"]
    thread = site.catalogue.board_threads(gbk_fids[0])[0]
    result = client.get("/api/search", params={"q": f'"{thread.title[:6]}"'}).json()
    assert result["total"] >= 1
    assert any(thread.title == hit["title"] for hit in result["hits"]), result["hits"][:3]
    assert "\ufffd" not in "".join(h["title"] for h in result["hits"])


def test_search_filters_by_category_and_returns_highlights_and_facets(demo):
    _, _, _, client = demo
    result = client.get("/api/search", params={"q": "category:gambling"}).json()
    assert result["total"] >= 1
    assert set(result["facets"]["category"]) >= {"gambling"}
    assert all("gambling" in hit["categories"] for hit in result["hits"])
    bad = client.get("/api/search", params={"q": '(博彩 OR'})
    assert bad.status_code == 400 and "position" in bad.json()["detail"]


def test_an_officer_claims_and_confirms_an_alert_and_the_audit_chain_holds(demo):
    _, services, _, client = demo
    alert = _all_alerts(client)[0]
    detail = client.get(f"/api/alerts/{alert['id']}").json()
    assert detail["post"]["content_sha256"] and detail["post"]["url"].startswith("http://127.0.0.1")
    # An alert explains itself: matched spans, or the model features behind its category.
    assert detail["evidence"] or detail["features"].get(detail["category"]), detail
    assert client.post(f"/api/alerts/{alert['id']}/claim").status_code == 200
    decided = client.post(f"/api/alerts/{alert['id']}/decision",
                          json={"action": "confirm", "disposition": "reported", "note": "e2e"})
    assert decided.status_code == 200 and decided.json()["status"] == "confirmed"
    again = client.post(f"/api/alerts/{alert['id']}/decision", json={"action": "dismiss", "reason": "false_positive"})
    assert again.status_code == 409
    verification = services.store.verify_audit()
    assert verification.ok and verification.checked >= len(_all_alerts(client)) + 2


def test_the_demo_shows_events_across_sources_a_burst_and_places(demo):
    _, _, report, client = demo
    assert report.events >= 3 and report.bursts >= 1   # what `patrol demo` prints
    events = client.get("/api/events").json()["items"]
    blast = [e for e in events if "化工园区" in "".join(e["top_terms"]) + e["title"]]
    assert blast, [e["title"] for e in events]
    # The crawl's arrival order across sources varies between runs, and incremental clustering
    # agrees with a one-batch run only within the tolerance patrol/events/README.md states (0.86
    # shuffled): 8 of the blast's posts joined in one run, 6 in another.
    assert blast[0]["size"] >= 6 and len(blast[0]["sources"]) >= 3
    assert blast[0]["place"]["label"] == "吉林省白山市临江市"
    assert any(e["place"]["city"] == "长春市" for e in events) or client.get(
        "/api/trends", params={"kind": "place"}).json()["total"] >= 2
    bursts = client.get("/api/bursts").json()
    assert any(b["kind"] == "term" and b["key"].startswith("public-safety:") for b in bursts), bursts


def test_the_demo_records_source_passes_keeps_ids_without_the_port_and_links_land_on_the_post(demo):
    import re
    import urllib.request
    from urllib.parse import urlsplit

    site, services, _, _ = demo
    health = {h.source: h for h in services.store.source_health()}
    assert set(BOARD_SOURCE_NAMES.values()) | {"demo-news"} <= set(health)
    assert all(h.passes >= 1 and h.last_pass_at is not None for h in health.values())

    port = str(urlsplit(site.base_url).port)
    posts = list(services.store.iter_posts())
    news = [p for p in posts if p.source == "demo-news"]
    assert news and all(re.fullmatch(r"linjiang-news-\d+", p.external_id) for p in news)
    assert not [p.external_id for p in posts if port in p.external_id], "a restart on another port would re-store them"

    # 原链接 of a forum post: Discuz's findpost permalink, redirected to the thread page holding the floor.
    floor = next(p for p in posts if p.source == "demo-city" and "findpost" in p.url)
    pid = re.search(r"pid=(\d+)", floor.url).group(1)
    with urllib.request.urlopen(floor.url, timeout=10) as r:
        landed, body = r.geturl(), r.read().decode(r.headers.get_content_charset() or "utf-8", "replace")
    assert "mod=viewthread" in landed and f"#pid{pid}" in landed
    assert f'id="pid{pid}"' in body
