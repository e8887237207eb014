"""GET /api/search: the query language over HTTP, its errors, and its audit."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from search.index import IndexUnavailable


def test_search_finds_posts_with_highlights_and_facets(api, seed):
    _, drug_post = seed.post("出冰，同城面交，价格私聊", category="drugs")
    seed.post("菠菜平台 上分下分 私聊", category="gambling")
    seed.post("今天天气很好", category="none", alert=False)
    r = api.get("alice", "/api/search", params={"q": "同城"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 1 and body["hits"][0]["id"] == drug_post
    assert any("<mark>同城</mark>" in h for h in body["hits"][0]["highlights"])
    both = api.get("alice", "/api/search", params={"q": "私聊"}).json()
    assert both["total"] == 2
    assert both["facets"]["category"] == {"drugs": 1, "gambling": 1}


def test_search_filters_by_category_and_time(api, seed):
    old = datetime.now(timezone.utc) - timedelta(days=10)
    seed.post("出冰 私聊", category="drugs", published_at=old)
    _, recent = seed.post("菠菜 私聊", category="gambling")
    r = api.get("alice", "/api/search", params={"q": "私聊", "category": "gambling"}).json()
    assert [h["id"] for h in r["hits"]] == [recent]
    since = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
    r = api.get("alice", "/api/search", params={"q": "私聊", "from": since}).json()
    assert [h["id"] for h in r["hits"]] == [recent]


def test_search_pages_with_a_cursor(api, seed):
    for i in range(3):
        seed.post(f"私聊 第{i}条", category="drugs")
    first = api.get("alice", "/api/search", params={"q": "私聊", "limit": 2}).json()
    assert len(first["hits"]) == 2 and first["next_cursor"]
    second = api.get("alice", "/api/search", params={"q": "私聊", "limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(second["hits"]) == 1 and second["next_cursor"] is None


def test_malformed_query_is_400_with_the_position(api):
    q = '私聊 AND ("同城'
    r = api.get("alice", "/api/search", params={"q": q})
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert detail["query"] == q and isinstance(detail["position"], int) and detail["message"]
    assert 0 <= detail["position"] <= len(q)


def test_unbalanced_parenthesis_points_at_it(api):
    r = api.get("alice", "/api/search", params={"q": "私聊 )"})
    assert r.status_code == 400 and r.json()["detail"]["position"] == 3


def test_bad_cursor_is_400(api, seed):
    seed.post("私聊", category="drugs")
    for cursor in ("garbage", "eyJ4IjoxfQ", "%00", "a" * 400):
        r = api.get("alice", "/api/search", params={"q": "私聊", "cursor": cursor})
        assert r.status_code == 400, (cursor, r.text)


def test_search_is_audited_with_who_and_what(api, services, seed):
    api.get("bob", "/api/search", params={"q": "同城"})
    events = services.store.audit_events(action="search.performed")
    assert [(e.actor, e.payload["q"]) for e in events] == [("bob", "同城")]


def test_index_down_is_503_with_a_clear_detail(api, services, monkeypatch):
    def down(query):
        raise IndexUnavailable("cannot open the index file")

    monkeypatch.setattr(services.index, "search", down)
    r = api.get("alice", "/api/search", params={"q": "同城"})
    assert r.status_code == 503
    assert "index" in r.json()["detail"] and "cannot open" in r.json()["detail"]


def test_search_needs_login(client):
    assert client.get("/api/search", params={"q": "x"}).status_code == 401


def test_status_filter_follows_the_review_of_the_alert(api, seed):
    alert_id, post_id = seed.post("出冰，同城面交，私聊", category="drugs")

    def found(status: str) -> list[str]:
        return [h["id"] for h in api.get("alice", "/api/search", params={"q": f"私聊 status:{status}"}).json()["hits"]]

    assert found("open") == [post_id]
    api.post("alice", f"/api/alerts/{alert_id}/claim")
    assert found("claimed") == [post_id] and found("open") == []
    api.post("alice", f"/api/alerts/{alert_id}/decision", json={"action": "dismiss", "reason": "false_positive"})
    assert found("dismissed") == [post_id] and found("claimed") == []


def test_bulk_review_updates_the_status_filter_too(api, seed):
    alert_id, post_id = seed.post("出冰，同城面交，私聊", category="drugs")
    r = api.post("sue", "/api/alerts/bulk", json={"ids": [alert_id], "action": "claim"})
    assert r.json()["results"][0]["ok"]
    hits = api.get("alice", "/api/search", params={"q": "私聊 status:claimed"}).json()["hits"]
    assert [h["id"] for h in hits] == [post_id]


def test_a_review_step_is_kept_when_the_index_is_down(api, seed, services, monkeypatch):
    alert_id, _ = seed.post("出冰，同城面交，私聊", category="drugs")

    def down(post_id, status):
        raise IndexUnavailable("connection refused")

    monkeypatch.setattr(services.index, "set_status", down)
    r = api.post("alice", f"/api/alerts/{alert_id}/claim")
    assert r.status_code == 200 and r.json()["status"] == "claimed"
