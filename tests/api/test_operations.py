"""Health, metrics, posts, sources, trends, events and the OpenAPI page."""
from __future__ import annotations

from datetime import datetime, timezone

from nlp.analysis import Evidence


def test_healthz_is_ok_when_database_and_index_answer(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "index": "ok"}


def test_healthz_is_503_naming_what_is_down(client, services, monkeypatch):
    def down():
        raise OSError("disk gone")

    monkeypatch.setattr(services.index, "count", down)
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["detail"]["database"] == "ok"
    assert "disk gone" in r.json()["detail"]["index"]


def test_metrics_count_alerts_posts_and_requests(client, api, seed):
    seed.post("出冰", category="drugs")
    seed.post("菠菜", category="gambling")
    api.get("alice", "/api/alerts")
    text = client.get("/metrics").text
    assert "patrol_posts 2.0" in text
    assert 'patrol_alerts_by_status{status="open"} 2.0' in text
    assert 'patrol_alerts_by_category{category="drugs"} 1.0' in text
    assert 'patrol_http_requests_total{method="GET",route="/api/alerts",status="200"}' in text
    assert "patrol_http_request_seconds_bucket" in text


def test_metrics_label_routes_by_template_not_by_id(client, api, seed):
    alert_id, _ = seed.post("出冰", category="drugs")
    api.get("alice", f"/api/alerts/{alert_id}")
    text = client.get("/metrics").text
    assert 'route="/api/alerts/{alert_id}"' in text and alert_id not in text


def test_post_has_its_versions_and_its_alert(api, seed):
    alert_id, post_id = seed.post("出冰", category="drugs")
    p = api.get("alice", f"/api/posts/{post_id}").json()
    assert p["text"] == "出冰" and p["alert_id"] == alert_id
    assert [v["version"] for v in p["versions"]] == [1]
    assert api.get("alice", "/api/posts/none-such").status_code == 404


def test_sources_show_the_health_the_crawler_recorded(api, services):
    assert api.get("alice", "/api/sources").json() == []
    services.store.record_source_pass("city-forum", datetime.now(timezone.utc), items=0, errors={"timeout": 2})
    [s] = api.get("alice", "/api/sources").json()
    assert s["source"] == "city-forum" and s["consecutive_empty"] == 1 and s["errors_last_pass"] == {"timeout": 2}


def test_trends_count_posts_per_category_per_day_and_top_terms(api, seed):
    ev = (Evidence("drugs", "lexicon", "出冰", 0, 2, "出冰"),)
    seed.post("出冰 同城", category="drugs", evidence=ev)
    seed.post("出冰 面交", category="drugs", evidence=ev)
    seed.post("菠菜", category="gambling")
    r = api.get("alice", "/api/trends", params={"days": 3})
    assert r.status_code == 200
    body = r.json()
    assert len(body["days"]) == 3
    today = body["days"][-1]
    assert today["day"] == datetime.now(timezone.utc).date().isoformat()
    assert today["total"] == 3 and today["by_category"] == {"drugs": 2, "gambling": 1}
    assert body["top_terms"][0] == {"term": "出冰", "category": "drugs", "count": 2}


def test_events_group_alerts_into_bursts(api, seed):
    for i in range(3):
        seed.post(f"出冰 {i}", category="drugs", source="city-forum")
    seed.post("菠菜", category="gambling", source="other")
    body = api.get("alice", "/api/events").json()
    assert [(e["category"], e["source"], e["count"]) for e in body["events"]] == [("drugs", "city-forum", 3)]
    assert len(body["events"][0]["alert_ids"]) == 3


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/alerts/{alert_id}/decision" in spec["paths"] and "/api/search" in spec["paths"]
