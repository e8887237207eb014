"""Tokens, sessions and roles."""
from __future__ import annotations

from api.auth import TokenSigner, load_secret_key


def test_right_password_gets_a_bearer_token_for_the_users_role(client):
    r = client.post("/api/auth/token", data={"username": "alice", "password": "pw-alice-secret"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "officer" and body["expires_in"] > 0
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"name": "alice", "role": "officer"}


def test_wrong_password_is_401(client):
    r = client.post("/api/auth/token", data={"username": "alice", "password": "nope"})
    assert r.status_code == 401
    assert "password" in r.json()["detail"]


def test_unknown_user_is_401_like_a_wrong_password(client):
    r = client.post("/api/auth/token", data={"username": "mallory", "password": "x"})
    assert r.status_code == 401


def test_overlong_password_is_401_not_an_error(client):
    r = client.post("/api/auth/token", data={"username": "alice", "password": "密" * 100})
    assert r.status_code == 401


def test_missing_form_fields_are_422(client):
    assert client.post("/api/auth/token", data={"username": "alice"}).status_code == 422


def test_no_token_is_401(client):
    r = client.get("/api/alerts")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_forged_or_garbled_token_is_401(client):
    for token in ("abc", "a.b.c", "%%%{}", TokenSigner("another-key", 60).issue_token("alice")):
        r = client.get("/api/alerts", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token


def test_non_bearer_authorization_is_401(client):
    assert client.get("/api/alerts", headers={"Authorization": "Basic YWxpY2U6eA=="}).status_code == 401


def test_expired_token_is_401(client, app, monkeypatch):
    import time

    ttl = app.state.signer.ttl_seconds
    issued = time.time() - ttl - 60
    with monkeypatch.context() as m:
        m.setattr("itsdangerous.timed.time.time", lambda: issued)
        token = app.state.signer.issue_token("alice")
    r = client.get("/api/alerts", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]


def test_deactivated_user_loses_access_at_once(api, services):
    assert api.get("alice", "/api/alerts").status_code == 200
    from datetime import datetime, timezone
    services.store.set_user("alice", "adam", datetime.now(timezone.utc), active=False)
    assert api.get("alice", "/api/alerts").status_code == 401


def test_login_is_audited(api, services):
    api.token("bob")
    events = services.store.audit_events(action="user.login")
    assert any(e.actor == "bob" and e.payload.get("ok") is True for e in events)


def test_failed_login_is_audited_too(client, services):
    client.post("/api/auth/token", data={"username": "bob", "password": "wrong"})
    events = services.store.audit_events(action="user.login")
    assert any(e.subject == "user:bob" and e.payload.get("ok") is False for e in events)


def test_wrong_role_is_403(api):
    r = api.get("alice", "/api/audit")
    assert r.status_code == 403
    assert "auditor" in r.json()["detail"]


def test_auditor_reads_the_audit_trail(api):
    r = api.get("audrey", "/api/audit")
    assert r.status_code == 200
    assert r.json()["events"], "adding users is audited, so the trail is not empty"


def test_admin_reads_the_audit_trail_and_verifies_it(api):
    assert api.get("adam", "/api/audit").status_code == 200
    v = api.get("adam", "/api/audit/verify").json()
    assert v["ok"] is True and v["checked"] > 0


def test_auditor_cannot_claim_alerts(api, seed):
    alert_id, _ = seed.post("出冰，同城面交")
    assert api.post("audrey", f"/api/alerts/{alert_id}/claim").status_code == 403


def test_officer_cannot_act_in_bulk(api, seed):
    alert_id, _ = seed.post("出冰，同城面交")
    r = api.post("alice", "/api/alerts/bulk", json={"ids": [alert_id], "action": "claim"})
    assert r.status_code == 403


def test_tokens_are_not_session_cookies(client, api):
    """A bearer token in the session cookie would skip the CSRF check; it must not authenticate."""
    client.cookies.set("patrol_session", api.token("alice"))
    assert client.get("/api/alerts").status_code == 401
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = load_secret_key(None, tmp_path)
    assert len(first) >= 32
    assert load_secret_key(None, tmp_path) == first
    assert (tmp_path / "api_secret_key").stat().st_mode & 0o077 == 0
    assert load_secret_key("configured", tmp_path) == "configured"
