"""Whatever a caller sends, the answer is never a 5xx: bad input is the caller's 4xx."""
from __future__ import annotations

import base64
import json

import pytest


@pytest.fixture
def database_url(backend_url):
    # Every test here runs on SQLite and, when the test scripts started one, on PostgreSQL, which
    # refuses NUL characters, over-long values and mismatched types that SQLite lets through.
    return backend_url


def forged_cursor(sort: str, values: list) -> str:
    raw = json.dumps({"s": sort, "v": values}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


NASTY_QUERIES = [
    "",
    "   ",
    "x" * 1000,
    "私聊 " * 400,
    "'; DROP TABLE posts; --",
    "\" OR 1=1 --",
    "NEAR(私聊 同城, 2)",
    "* OR *",
    "title:私聊 body:x",
    "category:",
    "category:not_a_category",
    "published:>=notadate",
    "published:>=2026-13-45",
    "published:<=",
    "((((((((((私聊",
    ")))))",
    "-",
    "--私聊",
    "-私聊",
    "OR",
    "私聊 OR",
    "\"\"",
    "\"未闭合",
    "\x00\x01\x02",
    "\u200b\u200d\ufeff",
    "\u202e聊私\u202c",
    "👨‍👩‍👧‍👦🈶💰⭕",
    "Ａ Ｂ Ｃ １２３",
    "ℌ𝔢𝔩𝔩𝔬",
    "%s%s%s%n",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "\\",
    "a:b:c:d",
    "source:\"city forum\"",
]


@pytest.mark.parametrize("q", NASTY_QUERIES)
def test_hostile_search_query_is_never_a_server_error(api, seed, q):
    seed.post("出冰，同城面交，私聊", category="drugs")
    r = api.get("alice", "/api/search", params={"q": q})
    assert r.status_code < 500, r.text
    if r.status_code == 400:
        assert {"message", "position", "query"} <= set(r.json()["detail"]) or isinstance(r.json()["detail"], str)


def test_query_over_the_length_limit_is_422(api):
    r = api.get("alice", "/api/search", params={"q": "x" * 1001})
    assert r.status_code == 422


def test_invalid_utf8_in_the_query_string_is_not_a_server_error(api):
    r = api.get("alice", "/api/search?q=%ED%A0%80%FF")
    assert r.status_code < 500


@pytest.mark.parametrize("params", [
    {"limit": 0}, {"limit": 10_000}, {"limit": "abc"}, {"from": "yesterday"}, {"to": "2026-02-30"},
    {"category": "x" * 100}, {"source": "'; --"},
])
def test_hostile_search_parameters_are_4xx(api, params):
    r = api.get("alice", "/api/search", params={"q": "私聊", **params})
    assert r.status_code < 500, r.text


@pytest.mark.parametrize("params", [
    {"status": "bogus"}, {"status": ",,,"}, {"severity": "extreme"}, {"sort": "random"},
    {"cursor": "garbage"}, {"cursor": "eyJzIjoibmV3ZXN0IiwidiI6WzFdfQ"}, {"cursor": "\u00ff\u00fe"},
    {"limit": -1}, {"limit": 100000}, {"opened_from": "not-a-date"}, {"q": "%' OR 1=1 --"},
    {"q": "\x00"}, {"assignee": "' OR ''='"}, {"category": "🈶"},
    {"source": "a\x00b"}, {"category": "\x00"}, {"assignee": "\x00"},
    {"opened_from": "0001-01-01T00:00:00+14:00"}, {"opened_to": "9999-12-31T23:59:59-14:00"},
    {"cursor": forged_cursor("severity_then_due", ["abc", "2026-01-01T00:00:00+00:00", "x"])},
    {"cursor": forged_cursor("severity_then_due", [1, "2026-01-01T00:00:00", "x"])},
    {"cursor": forged_cursor("severity_then_due", [10**30, "2026-01-01T00:00:00+00:00", "x"])},
    {"cursor": forged_cursor("newest", ["2026-01-01T00:00:00+00:00", 7])},
    {"cursor": forged_cursor("newest", [None, None])},
    {"cursor": forged_cursor("newest", ["2026-01-01T00:00:00+00:00", "x\x00"])},
])
def test_hostile_alert_filters_are_4xx(api, seed, params):
    seed.post("出冰，同城面交", category="drugs")
    r = api.get("alice", "/api/alerts", params=params)
    assert r.status_code < 500, r.text


@pytest.mark.parametrize("params, field", [
    ({"source": "a\x00b"}, "source"), ({"opened_from": "0001-01-01T00:00:00+14:00"}, "opened_from"),
    ({"cursor": forged_cursor("newest", ["2026-01-01T00:00:00", "x"])}, "cursor"),
])
def test_unusable_filter_values_are_400_naming_the_field(api, params, field):
    r = api.get("alice", "/api/alerts", params=params)
    assert r.status_code == 400 and field in r.json()["detail"], r.text


def test_bad_filter_value_says_which_and_why(api):
    r = api.get("alice", "/api/alerts", params={"status": "bogus"})
    assert r.status_code == 400 and "status" in r.json()["detail"]
    r = api.get("alice", "/api/alerts", params={"cursor": "garbage"})
    assert r.status_code == 400 and "cursor" in r.json()["detail"]


@pytest.mark.parametrize("alert_id", ["x" * 5000, "%00", "a%00b", "..%2F..%2Fetc%2Fpasswd", "🈶", "' OR 1=1 --"])
def test_weird_alert_ids_are_404(api, alert_id):
    assert api.get("alice", f"/api/alerts/{alert_id}").status_code == 404
    assert api.post("alice", f"/api/alerts/{alert_id}/claim").status_code == 404
    assert api.post("alice", f"/api/alerts/{alert_id}/notes", json={"text": "hi"}).status_code == 404


@pytest.mark.parametrize("post_id", ["'; DROP TABLE posts; --", "%00", "x" * 5000])
def test_weird_post_ids_are_404(api, post_id):
    assert api.get("alice", f"/api/posts/{post_id}").status_code == 404


def test_bulk_with_weird_ids_reports_each_as_not_found(api):
    r = api.post("sue", "/api/alerts/bulk", json={"ids": ["x\x00", "y" * 5000], "action": "claim"})
    assert r.status_code == 200, r.text
    assert [item["ok"] for item in r.json()["results"]] == [False, False]


@pytest.mark.parametrize("body", [b'{"text": "a\\u0000b"}', b'{"text": "\\ud800"}'])
def test_note_with_characters_no_database_keeps_is_422_and_nothing_is_written(api, seed, body):
    alert_id, _ = seed.post("出冰", category="drugs")
    r = api.post("alice", f"/api/alerts/{alert_id}/notes", content=body,
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert api.get("alice", f"/api/alerts/{alert_id}").json()["notes"] == []


def test_decision_note_with_a_nul_is_422_and_the_alert_stays_claimed(api, seed):
    alert_id, _ = seed.post("出冰", category="drugs")
    assert api.post("alice", f"/api/alerts/{alert_id}/claim").status_code == 200
    r = api.post("alice", f"/api/alerts/{alert_id}/decision",
                 json={"action": "dismiss", "reason": "other", "note": "x\x00y"})
    assert r.status_code == 422, r.text
    assert api.get("alice", f"/api/alerts/{alert_id}").json()["status"] == "claimed"


@pytest.mark.parametrize("params", [{"actor": "\x00"}, {"subject": "a\x00"}, {"action": "\x00"},
                                    {"after_seq": 10**20}])
def test_hostile_audit_filters_are_not_server_errors(api, params):
    r = api.get("audrey", "/api/audit", params=params)
    assert r.status_code < 500, r.text


@pytest.mark.parametrize("username", ["x" * 300, "a\x00b"])
def test_login_with_an_impossible_user_name_is_401_and_audited(api, client, username):
    r = client.post("/api/auth/token", data={"username": username, "password": "whatever"})
    assert r.status_code == 401, r.text
    logins = api.get("audrey", "/api/audit", params={"action": "user.login"}).json()["events"]
    assert logins[-2]["payload"]["ok"] is False  # the last one is audrey's own login


def test_huge_note_is_422_and_nothing_is_written(api, seed):
    alert_id, _ = seed.post("出冰", category="drugs")
    r = api.post("alice", f"/api/alerts/{alert_id}/notes", json={"text": "字" * 100_000})
    assert r.status_code == 422
    assert api.get("alice", f"/api/alerts/{alert_id}").json()["notes"] == []


def test_wrong_content_type_is_422(api, seed):
    alert_id, _ = seed.post("出冰", category="drugs")
    r = api.post("alice", f"/api/alerts/{alert_id}/notes", content=b"text=hi",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422


def test_a_real_bug_is_a_logged_500_without_internals(api, services, monkeypatch, caplog):
    def broken(flt):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services.store, "list_alerts", broken)
    r = api.get("alice", "/api/alerts")
    assert r.status_code == 500
    assert "secret internals" not in r.text
    assert any("unhandled error" in rec.message for rec in caplog.records)


def console_login(client, name: str) -> str:
    """Logs `name` into the console; returns the session's CSRF token."""
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").text).group(1)
    r = client.post("/console/login", data={"username": name, "password": f"pw-{name}-secret",
                                            "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/").text).group(1)


def test_console_pages_with_hostile_input_are_never_server_errors(client, seed):
    alert_id, post_id = seed.post("出冰，同城面交", category="drugs")
    csrf = console_login(client, "alice")
    for path, params in (("/console/", {"source": "a\x00"}), ("/console/", {"q": "\x00"}),
                         ("/console/", {"cursor": forged_cursor("severity_then_due", [1, "x", "y"])}),
                         ("/console/alerts/a%00b", {}), ("/console/posts/a%00b", {}),
                         ("/console/search", {"q": "\x00", "source": "\x00"})):
        r = client.get(path, params=params)
        assert r.status_code < 500, (path, params, r.status_code)
    r = client.post(f"/console/alerts/{alert_id}/notes", data={"csrf_token": csrf, "text": "a\x00b"},
                    follow_redirects=False)
    assert r.status_code < 500
    assert client.post("/console/login", data={"username": "a\x00", "password": "x"}).status_code < 500
