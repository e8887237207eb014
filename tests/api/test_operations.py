"""Health, metrics, posts, sources and the OpenAPI page."""
from __future__ import annotations

from datetime import datetime, timezone


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


# The event and trend views are tested in tests/api/test_events_api.py.


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/alerts/{alert_id}/decision" in spec["paths"] and "/api/search" in spec["paths"]
