"""Who viewed which alert and post, and who searched for what, are audit events: an auditor reads
them, nobody changes them (no route writes the trail; the database refuses updates)."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.api.conftest import password_of


def _console_login(client, name):
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/console/login", data={"username": name, "password": password_of(name),
                                            "csrf_token": token, "next": "/console/"}, follow_redirects=False)
    assert r.status_code == 303


def test_api_views_of_an_alert_and_a_post_are_audited_with_who_and_which(api, seed, services):
    alert_id, post_id = seed.post("出冰，同城面交")
    assert api.get("alice", f"/api/alerts/{alert_id}").status_code == 200
    assert api.get("bob", f"/api/posts/{post_id}").status_code == 200
    viewed = [(e.actor, e.action, e.subject, e.payload) for e in services.store.audit_events(limit=1000)
              if e.action.endswith(".viewed")]
    assert viewed == [("alice", "alert.viewed", f"alert:{alert_id}", {"via": "api"}),
                      ("bob", "post.viewed", f"post:{post_id}", {"via": "api"})]
    # The alert's own history (what was done to it) does not fill up with reads.
    history = api.get("alice", f"/api/alerts/{alert_id}").json()["history"]
    assert len(history) == 1 and "viewed" not in history[0]["type"]


def test_a_view_of_something_missing_is_not_recorded_as_a_view(api, services):
    assert api.get("alice", "/api/alerts/nope").status_code == 404
    assert not services.store.audit_events(action="alert.viewed")


def test_console_views_and_searches_are_audited(client, seed, services):
    alert_id, post_id = seed.post("出冰，同城面交")
    _console_login(client, "bob")
    assert client.get(f"/console/alerts/{alert_id}").status_code == 200
    assert client.get(f"/console/posts/{post_id}").status_code == 200
    assert client.get("/console/search", params={"q": "同城"}).status_code == 200
    events = [(e.actor, e.action, e.subject) for e in services.store.audit_events(limit=1000)
              if e.action in ("alert.viewed", "post.viewed", "search.performed")]
    assert events == [("bob", "alert.viewed", f"alert:{alert_id}"), ("bob", "post.viewed", f"post:{post_id}"),
                      ("bob", "search.performed", "")]
    assert services.store.audit_events(action="search.performed")[0].payload["q"] == "同城"


def test_an_auditor_reads_the_view_events_and_an_officer_cannot(api, seed):
    alert_id, _ = seed.post("出冰，同城面交")
    api.get("alice", f"/api/alerts/{alert_id}")
    r = api.get("audrey", "/api/audit", params={"action": "alert.viewed"})
    assert r.status_code == 200
    assert [(e["actor"], e["subject"]) for e in r.json()["events"]] == [("alice", f"alert:{alert_id}")]
    assert api.get("alice", "/api/audit", params={"action": "alert.viewed"}).status_code == 403


@pytest.mark.parametrize("name", ["alice", "sue", "audrey", "adam"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_role_can_change_the_trail_through_the_api(api, name, method):
    before = api.get("audrey", "/api/audit").json()["events"]
    r = getattr(api.client, method)("/api/audit", headers=api.headers(name))
    assert r.status_code == 405
    after = api.get("audrey", "/api/audit").json()["events"]
    assert after[:len(before)] == before


def test_the_database_refuses_to_change_a_view_event(api, seed, services):
    alert_id, _ = seed.post("出冰，同城面交")
    api.get("alice", f"/api/alerts/{alert_id}")
    (event,) = services.store.audit_events(action="alert.viewed")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with services.store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit SET actor = 'nobody' WHERE seq = :s"), {"s": event.seq})
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with services.store.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM audit WHERE seq = :s"), {"s": event.seq})
    assert api.get("adam", "/api/audit/verify").json()["ok"] is True
