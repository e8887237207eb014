"""The review workflow through HTTP: queue, detail, claim, release, decide, notes, bulk."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from nlp.analysis import Evidence, TrailStep


def test_queue_lists_alerts_by_severity_then_due_time(api, seed):
    low, _ = seed.post("你这个废物", category="abuse_hate", score=0.9)
    critical, _ = seed.post("我不想活了，今晚就走", category="self_harm")
    high, _ = seed.post("出冰，同城面交", category="drugs")
    items = api.get("alice", "/api/alerts").json()["items"]
    assert [a["id"] for a in items] == [critical, high, low]
    assert items[0]["severity"] == "critical" and items[0]["overdue"] is False


def test_queue_filters_by_category_status_and_text(api, seed):
    drugs, _ = seed.post("出冰，同城面交", category="drugs")
    seed.post("菠菜平台 上分下分", category="gambling")
    assert [a["id"] for a in api.get("alice", "/api/alerts?category=drugs").json()["items"]] == [drugs]
    assert [a["id"] for a in api.get("alice", "/api/alerts?q=同城").json()["items"]] == [drugs]
    assert api.get("alice", "/api/alerts?status=confirmed").json()["items"] == []
    assert len(api.get("alice", "/api/alerts?status=open,claimed").json()["items"]) == 2


def test_queue_pages_with_a_cursor(api, seed):
    ids = {seed.post(f"出冰 第{i}次", category="drugs")[0] for i in range(5)}
    first = api.get("alice", "/api/alerts?limit=2").json()
    second = api.get("alice", f"/api/alerts?limit=2&cursor={first['next_cursor']}").json()
    third = api.get("alice", f"/api/alerts?limit=2&cursor={second['next_cursor']}").json()
    seen = [a["id"] for page in (first, second, third) for a in page["items"]]
    assert len(seen) == 5 and set(seen) == ids
    assert third["next_cursor"] is None


def test_overdue_alert_is_flagged(api, seed):
    late, _ = seed.post("我不想活了", category="self_harm",
                        opened_at=datetime.now(timezone.utc) - timedelta(hours=1))
    assert api.get("alice", f"/api/alerts/{late}").json()["overdue"] is True


def test_alert_detail_has_frozen_post_evidence_trail_scores_and_history(api, seed):
    text = "加薇❤ 出冰"
    alert_id, post_id = seed.post(
        text, category="drugs",
        evidence=(Evidence("drugs", "lexicon", "出冰", 4, 6, "出冰"),),
        trail=(TrailStep("homophone", 1, 2, "薇", "微"), TrailStep("emoji", 2, 3, "❤", "信")))
    d = api.get("alice", f"/api/alerts/{alert_id}").json()
    assert d["post"]["text"] == text and d["post"]["post_id"] == post_id
    assert d["post"]["analysed_text"] == text  # no title: offsets are into the text itself
    assert d["evidence"][0]["start"] == 4 and text[4:6] == d["evidence"][0]["text"]
    assert [t["original"] for t in d["trail"]] == ["薇", "❤"]
    assert d["scores"] == {"drugs": 0.9}
    assert [h["type"] for h in d["history"]] == ["alert.opened"]
    assert d["notes"] == [] and d["status"] == "open"


def test_unknown_alert_is_404(api):
    assert api.get("alice", "/api/alerts/nope").status_code == 404
    for action in ("claim", "release"):
        assert api.post("alice", f"/api/alerts/nope/{action}").status_code == 404
    r = api.post("alice", "/api/alerts/nope/decision", json={"action": "dismiss", "reason": "duplicate"})
    assert r.status_code == 404


def test_officer_claims_then_confirms(api, seed):
    alert_id, _ = seed.post("出冰，同城面交")
    claimed = api.post("alice", f"/api/alerts/{alert_id}/claim").json()
    assert claimed["status"] == "claimed" and claimed["assignee"] == "alice"
    r = api.post("alice", f"/api/alerts/{alert_id}/decision",
                 json={"action": "confirm", "disposition": "reported", "note": "已报送"})
    assert r.status_code == 200
    d = r.json()
    assert d["status"] == "confirmed" and d["outcome"] == "reported" and d["decided_by"] == "alice"
    assert [h["type"] for h in d["history"]] == ["alert.opened", "alert.claimed", "alert.decided"]


def test_dismissed_alert_cannot_be_confirmed(api, seed):
    alert_id, _ = seed.post("出冰，同城面交")
    api.post("alice", f"/api/alerts/{alert_id}/claim")
    assert api.post("alice", f"/api/alerts/{alert_id}/decision",
                    json={"action": "dismiss", "reason": "false_positive"}).status_code == 200
    r = api.post("alice", f"/api/alerts/{alert_id}/decision", json={"action": "confirm", "disposition": "reported"})
    assert r.status_code == 409
    assert "dismissed" in r.json()["detail"]


def test_alert_claimed_by_another_officer_cannot_be_claimed_or_decided(api, seed):
    alert_id, _ = seed.post("出冰，同城面交")
    api.post("alice", f"/api/alerts/{alert_id}/claim")
    r = api.post("bob", f"/api/alerts/{alert_id}/claim")
    assert r.status_code == 409 and "alice" in r.json()["detail"]
    r = api.post("bob", f"/api/alerts/{alert_id}/decision", json={"action": "dismiss", "reason": "duplicate"})
    assert r.status_code == 409
    assert api.post("bob", f"/api/alerts/{alert_id}/release").status_code == 409


def test_unclaimed_alert_cannot_be_decided(api, seed):
    alert_id, _ = seed.post("出冰，同城面交")
    r = api.post("alice", f"/api/alerts/{alert_id}/decision", json={"action": "dismiss", "reason": "duplicate"})
    assert r.status_code == 409 and "claim" in r.json()["detail"]


def test_release_returns_the_alert_to_the_queue(api, seed):
    alert_id, _ = seed.post("出冰，同城面交")
    api.post("alice", f"/api/alerts/{alert_id}/claim")
    d = api.post("alice", f"/api/alerts/{alert_id}/release").json()
    assert d["status"] == "open" and d["assignee"] is None
    assert api.post("bob", f"/api/alerts/{alert_id}/claim").status_code == 200


def test_escalated_alert_is_for_supervisors(api, seed):
    alert_id, _ = seed.post("出冰，同城面交")
    api.post("alice", f"/api/alerts/{alert_id}/claim")
    r = api.post("alice", f"/api/alerts/{alert_id}/decision", json={"action": "escalate", "note": "涉及团伙"})
    assert r.json()["status"] == "escalated"
    assert api.post("bob", f"/api/alerts/{alert_id}/claim").status_code == 403
    assert api.post("sue", f"/api/alerts/{alert_id}/claim").status_code == 200
    r = api.post("sue", f"/api/alerts/{alert_id}/decision", json={"action": "confirm", "disposition": "referred"})
    assert r.json()["status"] == "confirmed"


def test_decision_missing_its_reason_is_422_with_what_is_missing(api, seed):
    alert_id, _ = seed.post("出冰，同城面交")
    api.post("alice", f"/api/alerts/{alert_id}/claim")
    r = api.post("alice", f"/api/alerts/{alert_id}/decision", json={"action": "dismiss"})
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = api.post("alice", f"/api/alerts/{alert_id}/decision", json={"action": "escalate"})
    assert r.status_code == 422 and "note" in r.json()["detail"]


def test_bad_decision_bodies_are_422(api, seed):
    alert_id, _ = seed.post("出冰，同城面交")
    api.post("alice", f"/api/alerts/{alert_id}/claim")
    for body in ({"action": "approve"}, {"action": "confirm", "disposition": "jail"}, {}, [],
                 {"action": "dismiss", "reason": "duplicate", "extra": 1}, "confirm"):
        r = api.post("alice", f"/api/alerts/{alert_id}/decision", json=body)
        assert r.status_code == 422, body
    r = api.post("alice", f"/api/alerts/{alert_id}/decision", content=b"{not json",
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert api.get("alice", f"/api/alerts/{alert_id}").json()["status"] == "claimed"


def test_notes_are_added_and_shown(api, seed):
    alert_id, _ = seed.post("出冰，同城面交")
    r = api.post("alice", f"/api/alerts/{alert_id}/notes", json={"text": "联系方式已核实"})
    assert r.status_code == 201
    assert [(n["author"], n["text"]) for n in r.json()["notes"]] == [("alice", "联系方式已核实")]
    assert api.post("alice", f"/api/alerts/{alert_id}/notes", json={"text": "   "}).status_code == 422
    assert api.post("alice", f"/api/alerts/{alert_id}/notes", json={"text": ""}).status_code == 422


def test_supervisor_dismisses_many_alerts_and_each_outcome_is_reported(api, seed):
    a1, _ = seed.post("出冰", category="drugs")
    a2, _ = seed.post("出冰 二", category="drugs")
    api.post("alice", f"/api/alerts/{a2}/claim")
    r = api.post("sue", "/api/alerts/bulk",
                 json={"ids": [a1, a2, "nope"], "action": "dismiss", "reason": "duplicate"})
    assert r.status_code == 200
    results = {x["id"]: x for x in r.json()["results"]}
    assert results[a1]["ok"] and results[a1]["alert_status"] == "dismissed"
    # A decision is the holder's: the supervisor's bulk dismissal skips what alice holds.
    assert not results[a2]["ok"] and "alice" in results[a2]["detail"]
    assert not results["nope"]["ok"] and "nope" in results["nope"]["detail"]
    assert api.get("sue", f"/api/alerts/{a2}").json()["status"] == "claimed"


def test_bulk_with_a_bad_body_is_422(api):
    assert api.post("sue", "/api/alerts/bulk", json={"ids": [], "action": "claim"}).status_code == 422
    assert api.post("sue", "/api/alerts/bulk", json={"ids": ["x"], "action": "burn"}).status_code == 422
    assert api.post("sue", "/api/alerts/bulk", json={"ids": ["x"] * 201, "action": "claim"}).status_code == 422


def test_a_database_that_is_down_is_503_without_its_address(api, services, monkeypatch):
    from patrol.store import StoreUnavailable

    api.token("alice")  # logged in before the database went away

    def down(*args, **kwargs):
        raise StoreUnavailable("the workflow database postgresql://patrol@db.internal/patrol is unavailable: "
                               "could not connect")

    monkeypatch.setattr(services.store, "list_alerts", down)
    r = api.get("alice", "/api/alerts")
    assert r.status_code == 503
    assert "unavailable" in r.json()["detail"] and "db.internal" not in r.text
