"""The duty officers' console: login, CSRF, pages and forms."""
from __future__ import annotations

import re

import pytest

from nlp.analysis import Evidence, TrailStep


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has no CSRF field"
    return m.group(1)


def login(client, name: str, password: str | None = None, next_url: str = "/console/"):
    page = client.get("/console/login", params={"next": next_url})
    return client.post("/console/login", data={
        "username": name, "password": password or f"pw-{name}-secret",
        "csrf_token": csrf_of(page.text), "next": next_url}, follow_redirects=False)


@pytest.fixture
def officer(client):
    r = login(client, "alice")
    assert r.status_code == 303
    return client


@pytest.mark.parametrize("path", ["/console/", "/console/search", "/console/sources", "/console/alerts/x",
                                  "/console/posts/x"])
def test_console_pages_need_login(client, path):
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login?next=")


def test_root_goes_to_the_console(client):
    assert client.get("/", follow_redirects=False).headers["location"] == "/console/"


def test_login_page_renders_with_a_form(client):
    r = client.get("/console/login")
    assert r.status_code == 200 and 'id="login-form"' in r.text


def test_login_sets_an_httponly_samesite_session_cookie_and_goes_where_asked(client):
    r = login(client, "alice", next_url="/console/search")
    assert r.status_code == 303 and r.headers["location"] == "/console/search"
    cookie = r.headers["set-cookie"]
    assert "patrol_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")


def test_login_never_redirects_off_site(client):
    for target in ("https://evil.example/", "//evil.example/", "/api/audit", "javascript:alert(1)"):
        r = login(client, "alice", next_url=target)
        assert r.headers["location"] == "/console/", target


def test_wrong_password_shows_the_form_again_with_401(client):
    r = login(client, "alice", password="wrong")
    assert r.status_code == 401 and 'id="login-error"' in r.text
    assert "patrol_session" not in client.cookies


def test_login_without_the_csrf_token_is_refused(client):
    client.get("/console/login")
    r = client.post("/console/login", data={"username": "alice", "password": "pw-alice-secret"},
                    follow_redirects=False)
    assert r.status_code == 403 and "patrol_session" not in client.cookies


def test_queue_shows_alerts_in_order_with_overdue_highlighted(officer, seed):
    from datetime import datetime, timedelta, timezone
    late, _ = seed.post("我不想活了", category="self_harm", opened_at=datetime.now(timezone.utc) - timedelta(hours=2))
    fresh, _ = seed.post("出冰 同城", category="drugs")
    r = officer.get("/console/")
    assert r.status_code == 200
    rows = re.findall(r'data-alert-id="([^"]+)" data-status="open" data-severity="(\w+)" data-overdue="(\w+)"', r.text)
    assert rows == [(late, "critical", "true"), (fresh, "high", "false")]
    assert 'class="claim-button"' in r.text


def test_queue_filters_are_applied(officer, seed):
    seed.post("我不想活了", category="self_harm")
    drugs, _ = seed.post("出冰 同城", category="drugs")
    r = officer.get("/console/", params={"category": "drugs"})
    assert re.findall(r'class="alert-row[^"]*" data-alert-id="([^"]+)"', r.text) == [drugs]


def test_bad_queue_filter_shows_an_error_not_a_crash(officer):
    r = officer.get("/console/", params={"severity": "extreme"})
    assert r.status_code == 400 and "severity" in r.text


def test_alert_page_highlights_evidence_in_the_title_and_text_the_analyzer_saw(officer, seed):
    # The analyzer saw "有货\n出冰": offsets run across the title, a newline, then the text.
    alert_id, _ = seed.post("出冰", title="有货", category="drugs",
                            evidence=(Evidence("drugs", "lexicon", "有货", 0, 2, "有货"),
                                      Evidence("drugs", "lexicon", "出冰", 3, 5, "出冰")))
    r = officer.get(f"/console/alerts/{alert_id}")
    title = re.search(r'<h3 class="post-title" id="post-title">(.*?)</h3>', r.text, re.S).group(1)
    body = re.search(r'<div class="post-text" id="post-text">(.*?)</div>', r.text, re.S).group(1)
    assert re.sub(r"<mark[^>]*>", "[", title).replace("</mark>", "]") == "[有货]"
    assert re.sub(r"<mark[^>]*>", "[", body).replace("</mark>", "]") == "[出冰]"


def test_alert_page_highlights_evidence_in_the_original_text_and_shows_the_trail(officer, seed):
    text = "加薇❤ 出冰<b>"
    alert_id, _ = seed.post(
        text, category="drugs",
        evidence=(Evidence("drugs", "lexicon", "出冰", 4, 6, "出冰"),),
        trail=(TrailStep("homophone", 1, 2, "薇", "微"), TrailStep("emoji", 2, 3, "❤", "信")))
    r = officer.get(f"/console/alerts/{alert_id}")
    assert r.status_code == 200
    post = re.search(r'<div class="post-text" id="post-text">(.*?)</div>', r.text, re.S).group(1)
    assert re.sub(r"<mark[^>]*>", "[", post).replace("</mark>", "]") == "加薇❤ [出冰]&lt;b&gt;"
    assert "薇❤</span> → <span class=\"repl\">微信" in r.text
    assert 'id="claim-button"' in r.text


def test_unknown_alert_page_is_404(officer):
    r = officer.get("/console/alerts/none-such")
    assert r.status_code == 404 and "none-such" in r.text


def test_officer_claims_and_decides_through_the_forms(officer, seed, services):
    alert_id, _ = seed.post("出冰 同城", category="drugs")
    page = officer.get(f"/console/alerts/{alert_id}")
    r = officer.post(f"/console/alerts/{alert_id}/claim", data={"csrf_token": csrf_of(page.text)},
                     follow_redirects=False)
    assert r.status_code == 303
    page = officer.get(f"/console/alerts/{alert_id}")
    assert 'id="flash"' in page.text and 'id="decision-form"' in page.text
    officer.post(f"/console/alerts/{alert_id}/notes", data={"csrf_token": csrf_of(page.text), "text": "已核实"})
    r = officer.post(f"/console/alerts/{alert_id}/decision", data={
        "csrf_token": csrf_of(page.text), "action": "confirm", "disposition": "reported", "reason": "", "note": ""})
    assert r.status_code == 200  # followed the redirect back to the alert
    d = services.store.get_alert(alert_id)
    assert d.alert.status == "confirmed" and d.alert.outcome == "reported"
    assert [n.text for n in d.notes] == ["已核实"]


def test_refused_decision_comes_back_as_a_message(officer, seed):
    alert_id, _ = seed.post("出冰 同城", category="drugs")
    page = officer.get(f"/console/alerts/{alert_id}")
    r = officer.post(f"/console/alerts/{alert_id}/decision", data={
        "csrf_token": csrf_of(page.text), "action": "dismiss", "reason": "duplicate"})
    # The alert page again (not a redirect), the refusal in Chinese, the typed choice kept.
    assert r.status_code == 409 and "flash-error" in r.text and "尚未认领，请先认领再驳回" in r.text


def test_console_forms_without_the_csrf_token_are_refused(officer, seed, services):
    alert_id, _ = seed.post("出冰 同城", category="drugs")
    for data in ({}, {"csrf_token": "forged"}):
        r = officer.post(f"/console/alerts/{alert_id}/claim", data=data, follow_redirects=False)
        assert r.status_code == 403
    assert services.store.get_alert(alert_id).alert.status == "open"


def test_api_posts_with_only_the_session_cookie_need_the_csrf_header(officer, seed):
    alert_id, _ = seed.post("出冰 同城", category="drugs")
    assert officer.get(f"/api/alerts/{alert_id}").status_code == 200
    assert officer.post(f"/api/alerts/{alert_id}/claim").status_code == 403
    token = csrf_of(officer.get(f"/console/alerts/{alert_id}").text)
    assert officer.post(f"/api/alerts/{alert_id}/claim", headers={"X-CSRF-Token": token}).status_code == 200


def test_auditor_sees_alerts_read_only(client, seed):
    login(client, "audrey")
    alert_id, _ = seed.post("出冰 同城", category="drugs")
    page = client.get(f"/console/alerts/{alert_id}")
    assert page.status_code == 200 and 'id="claim-button"' not in page.text
    r = client.post(f"/console/alerts/{alert_id}/claim", data={"csrf_token": csrf_of(page.text)})
    assert "flash-error" in r.text


def test_logout_ends_the_session(officer):
    page = officer.get("/console/")
    officer.post("/console/logout", data={"csrf_token": csrf_of(page.text)})
    assert officer.get("/console/", follow_redirects=False).status_code == 303


def test_search_page_renders_highlights_as_marks_and_escapes_the_rest(officer, seed):
    seed.post("出冰 同城 <script>alert(1)</script>", title="<img src=x onerror=alert(1)>", category="drugs")
    r = officer.get("/console/search", params={"q": "同城"})
    assert r.status_code == 200
    assert "<mark>同城</mark>" in r.text
    assert "<script>alert(1)</script>" not in r.text and "<img src=x" not in r.text
    assert 'data-facet="category"' in r.text


def test_search_page_points_at_the_error_in_a_malformed_query(officer):
    r = officer.get("/console/search", params={"q": "私聊 )"})
    assert r.status_code == 400
    assert 'data-position="3"' in r.text


def test_search_page_with_a_bad_date_says_so(officer):
    r = officer.get("/console/search", params={"q": "x", "from": "2026-13-01"})
    assert r.status_code == 400 and "YYYY-MM-DD" in r.text


def test_console_search_is_audited(officer, services):
    officer.get("/console/search", params={"q": "同城"})
    assert [e.payload["q"] for e in services.store.audit_events(action="search.performed")] == ["同城"]


def test_sources_page_lists_source_health(officer, services):
    from datetime import datetime, timezone
    assert 'id="sources-empty"' in officer.get("/console/sources").text
    services.store.record_source_pass("city-forum", datetime.now(timezone.utc), items=0)
    r = officer.get("/console/sources")
    assert 'data-source="city-forum"' in r.text and "unhealthy" in r.text


def test_post_page_shows_the_post(officer, seed):
    alert_id, post_id = seed.post("出冰 同城", category="drugs")
    r = officer.get(f"/console/posts/{post_id}")
    assert r.status_code == 200 and f'data-post-id="{post_id}"' in r.text and alert_id in r.text


def test_a_javascript_url_is_never_a_link(officer, services, seed):
    alert_id, _ = seed.post("出冰 同城", category="drugs")
    from patrol.store.schema import alerts as alerts_table
    from sqlalchemy import update
    with services.store.engine.begin() as conn:
        conn.execute(update(alerts_table).where(alerts_table.c.id == alert_id).values(url="javascript:alert(1)"))
    r = officer.get(f"/console/alerts/{alert_id}")
    assert 'href="javascript:alert(1)"' not in r.text and "javascript:alert(1)" in r.text


def test_static_files_are_served_locally(client):
    assert client.get("/static/console.css").status_code == 200
    assert client.get("/static/console.js").status_code == 200


def test_a_bug_behind_a_console_page_is_an_html_500(officer, services, monkeypatch):
    def broken(flt):
        raise RuntimeError("boom")

    monkeypatch.setattr(services.store, "list_alerts", broken)
    r = officer.get("/console/")
    assert r.status_code == 500 and 'id="error-detail"' in r.text and "boom" not in r.text


def test_session_cookie_is_secure_over_https(app):
    from fastapi.testclient import TestClient
    with TestClient(app, base_url="https://patrol.example") as c:
        page = c.get("/console/login")
        r = c.post("/console/login", data={"username": "alice", "password": "pw-alice-secret",
                                           "csrf_token": csrf_of(page.text), "next": "/console/"},
                   follow_redirects=False)
        assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]
