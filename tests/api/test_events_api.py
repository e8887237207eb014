"""The public-opinion API over a real store: events from the ingest hook, their filters and
detail, the officer's audited changes, trends per key, bursts once per window, watch-lists."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from patrol.events.updater import EventUpdater
from patrol.posts import RawPost
from patrol.store import PostRecord

FIRE = ["长春市朝阳区红旗街一居民楼起火，浓烟滚滚，消防车已经赶到现场救援",
        "朝阳区红旗街居民楼着火了！浓烟很大，消防在救援，长春的朋友注意绕行",
        "长春红旗街居民楼火灾现场，消防车来了好几辆，浓烟滚滚，希望没人受伤",
        "红旗街居民楼起火，长春朝阳区消防救援中，浓烟飘了好远"]
@pytest.fixture
def database_url(backend_url):
    """These tests run on SQLite and, when the test scripts start one, on PostgreSQL."""
    return backend_url


CHAT = ["周末去公园放风筝，天气很好，孩子玩得很开心", "新买的咖啡机做拿铁很好喝，推荐给大家"]


def ingest(services, texts, at, source="city-forum", prefix="p"):
    records = []
    for i, text in enumerate(texts):
        raw = RawPost(source=f"{source}-{i % 3}", url=f"http://127.0.0.1/{prefix}{i}", external_id=f"{prefix}{i}",
                      text=text, published_at=at, fetched_at=at)
        records.append(PostRecord.from_raw(raw))
    services.store.save_batch(records, [], at)
    return EventUpdater(services.store.events, services.store.trends).update(records, at)


@pytest.fixture
def fire(services):
    at = datetime.now(timezone.utc) - timedelta(minutes=5)
    report = ingest(services, FIRE + CHAT, at)
    assert report.clustered == 6
    return at


def test_posts_about_one_incident_from_several_sources_are_one_event_with_its_place(api, fire):
    body = api.get("alice", "/api/events").json()
    [event] = body["items"]
    assert event["size"] == 4 and len(event["sources"]) == 3
    assert event["place"]["label"] == "吉林省长春市朝阳区" and event["place"]["code"] == "220104"
    assert event["posts_last_hour"] == 4 and "浓烟" in event["top_terms"]
    assert body["total"] == 1 and body["next_offset"] is None


def test_the_event_filters_by_place_and_size_and_refuse_a_bad_place(api, fire):
    assert api.get("alice", "/api/events", params={"place": "22"}).json()["total"] == 1
    assert api.get("alice", "/api/events", params={"place": "11"}).json()["total"] == 0
    assert api.get("alice", "/api/events", params={"min_size": 5}).json()["total"] == 0
    r = api.get("alice", "/api/events", params={"place": "ab"})
    assert r.status_code == 400 and "place" in r.json()["detail"]


def test_an_event_shows_its_timeline_sources_and_posts(api, fire):
    [event] = api.get("alice", "/api/events").json()["items"]
    body = api.get("alice", f"/api/events/{event['id']}").json()
    assert sum(p["count"] for p in body["timeline"]) == 4
    assert len(body["posts"]) == 4 and body["representative_posts"]
    assert api.get("alice", "/api/events/nope").status_code == 404


def test_an_officer_renames_splits_merges_and_dismisses_an_event_and_each_is_audited(api, services, fire):
    [event] = api.get("alice", "/api/events").json()["items"]
    eid = event["id"]
    r = api.post("alice", f"/api/events/{eid}/rename", json={"title": "长春红旗街居民楼火灾"})
    assert r.status_code == 200 and r.json()["title"] == "长春红旗街居民楼火灾"
    posts = api.get("alice", f"/api/events/{eid}").json()["posts"]
    r = api.post("alice", f"/api/events/{eid}/split", json={"post_ids": [posts[-1]["post_id"]]})
    assert r.status_code == 200 and r.json()["size"] == 1
    new_id = r.json()["id"]
    assert api.get("alice", f"/api/events/{eid}").json()["event"]["size"] == 3
    r = api.post("alice", f"/api/events/{new_id}/merge", json={"into": eid})
    assert r.status_code == 200 and r.json()["size"] == 4
    assert api.post("alice", f"/api/events/{eid}/dismiss", json={"reason": "已处置"}).status_code == 200
    assert api.get("alice", "/api/events").json()["total"] == 0
    actions = [e.action for e in services.store.audit_events(limit=100) if e.action.startswith("event.")]
    assert actions == ["event.renamed", "event.split", "event.merged", "event.dismissed"]
    assert services.store.verify_audit().ok


def test_splitting_every_post_or_a_stranger_post_is_refused_with_a_reason(api, fire):
    [event] = api.get("alice", "/api/events").json()["items"]
    posts = [p["post_id"] for p in api.get("alice", f"/api/events/{event['id']}").json()["posts"]]
    r = api.post("alice", f"/api/events/{event['id']}/split", json={"post_ids": posts})
    assert r.status_code == 400 and "全部" in r.json()["detail"]
    r = api.post("alice", f"/api/events/{event['id']}/split", json={"post_ids": ["x" * 64]})
    assert r.status_code == 400 and "不在事件" in r.json()["detail"]


def test_a_burst_of_a_public_safety_term_raises_one_trend_alert_per_window(api, services):
    at = datetime.now(timezone.utc)
    first = ingest(services, [f"长春{i}号楼起火了，消防正在赶来" for i in range(3)], at, prefix="a")
    again = ingest(services, [f"又有一栋楼起火，长春{i}号楼附近" for i in range(4)], at, prefix="b")
    assert len(first.bursts) == 1 and again.bursts == []
    trend_alerts = [a for a in services.store.list_alerts().items if a.category == "ops_trend"]
    keys = [a.source for a in trend_alerts]
    assert len(keys) == len(set(keys)), "a key raised more than one alert in one window"
    assert any(a.analysis["trend"]["series"] for a in trend_alerts)
    bursts = api.get("alice", "/api/bursts").json()
    assert {b["alert_id"] for b in bursts} == {a.id for a in trend_alerts}


def test_trends_give_a_series_per_category_place_and_term_and_refuse_an_unknown_kind(api, fire):
    body = api.get("alice", "/api/trends", params={"kind": "place", "hours": 3}).json()
    labels = {i["label"]: i["total"] for i in body["items"]}
    assert labels.get("吉林省长春市") == 4 and len(body["items"][0]["series"]) == 3
    body = api.get("alice", "/api/trends", params={"kind": "term"}).json()
    assert any(i["key"].startswith("public-safety:") for i in body["items"])
    assert api.get("alice", "/api/trends", params={"kind": "opinion"}).status_code == 400


def test_an_admin_defines_a_watch_list_and_a_single_character_term_is_refused(api, services, fire):
    r = api.client.put("/api/watchlists/heat", headers=api.headers("adam"),
                       json={"name": "高温", "terms": ["中暑", "高温"]})
    assert r.status_code == 201, r.text
    r = api.client.put("/api/watchlists/wide", headers=api.headers("adam"), json={"name": "x", "terms": ["的"]})
    assert r.status_code == 422 and "单个字符" in r.json()["detail"]
    r = api.client.put("/api/watchlists/public-safety", headers=api.headers("adam"),
                       json={"name": "x", "terms": ["火灾"]})
    assert r.status_code == 422
    assert api.client.put("/api/watchlists/heat", headers=api.headers("alice"),
                          json={"name": "高温", "terms": ["中暑"]}).status_code == 403
    lists = api.get("alice", "/api/watchlists").json()
    assert [w["id"] for w in lists] == ["public-safety", "heat"]
    changes = [e for e in services.store.audit_events(limit=100) if e.action == "watchlist.changed"]
    assert len(changes) == 1 and changes[0].actor == "adam" and changes[0].payload["terms_after"] == ["中暑", "高温"]
    assert api.get("alice", "/api/events", params={"watchlist": "public-safety"}).json()["total"] == 1
    assert api.get("alice", "/api/events", params={"watchlist": "heat"}).json()["total"] == 0


def test_the_console_events_page_shows_the_map_the_events_and_their_places(client, fire):
    from tests.api.test_console import login

    assert client.get("/console/events", follow_redirects=False).status_code == 303
    login(client, "alice")
    r = client.get("/console/events")
    assert r.status_code == 200
    assert "吉林省长春市朝阳区" in r.text and 'id="event-map"' in r.text and "vendor/echarts/echarts.min.js" in r.text
    assert '"name": "吉林"' in r.text and '"name": "长春"' in r.text


def test_an_events_splits_and_merges_are_traced_in_the_api_and_on_the_console_page(api, client, fire):
    from tests.api.test_console import login

    [event] = api.get("alice", "/api/events").json()["items"]
    eid = event["id"]
    assert event["trace"] == []
    posts = api.get("alice", f"/api/events/{eid}").json()["posts"]
    new_id = api.post("alice", f"/api/events/{eid}/split", json={"post_ids": [posts[-1]["post_id"]]}).json()["id"]
    fresh = api.get("alice", f"/api/events/{new_id}").json()["event"]
    assert [(t["action"], t["other"], t["by"], t["posts"]) for t in fresh["trace"]] == [("split_from", eid, "alice", 1)]
    source = api.get("alice", f"/api/events/{eid}").json()["event"]
    assert [(t["action"], t["other"]) for t in source["trace"]] == [("split", new_id)]
    login(client, "alice")
    page = client.get("/console/events", params={"min_size": 1}).text
    assert f"拆分自 {eid[:10]}（alice，1 帖）" in page and f"已拆出 {new_id[:10]}（alice，1 帖）" in page
    api.post("alice", f"/api/events/{new_id}/merge", json={"into": eid})
    source = api.get("alice", f"/api/events/{eid}").json()["event"]
    assert [t["action"] for t in source["trace"]] == ["split", "merged_in"]
