"""Login limits, server-side sessions and their revocation, user management over the API and the
console, request body caps and 422 answers that never repeat the input."""
from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone

import pytest

from patrol.login_limits import LoginPolicy, LoginRefused
from tests.api.conftest import password_of


@pytest.fixture
def database_url(backend_url):
    return backend_url  # these run on SQLite and, when configured, on PostgreSQL


def login(client, name, password):
    return client.post("/api/auth/token", data={"username": name, "password": password})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


# --- login limits -----------------------------------------------------------------------------

@pytest.fixture
def slow_waits(services):
    """Waits long enough that a loaded machine cannot outlast one between two requests."""
    services.store._users.login_policy = LoginPolicy(first_wait=timedelta(minutes=10))


def test_wrong_passwords_in_a_row_then_the_right_one_is_still_refused(client, services, slow_waits):
    answers = [login(client, "alice", f"wrong-{i}").status_code for i in range(50)]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    r = login(client, "alice", password_of("alice"))
    assert r.status_code == 429 and "try again" in r.json()["detail"]
    assert int(r.headers["Retry-After"]) > 60
    refused = [e for e in services.store.audit_events(action="user.login", limit=1000)
               if e.subject == "user:alice" and e.payload.get("refused")]
    assert len(refused) == 46  # every refused attempt is audited, the right one included


def test_parallel_wrong_passwords_are_counted_like_serial_ones(client, slow_waits):
    answers: list[int] = []

    def attempt(i):
        answers.append(login(client, "bob", f"wrong-{i}").status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # only the free failures reached the password check; the right one now waits too
    assert answers.count(401) == 5 and answers.count(429) == 45
    assert login(client, "bob", password_of("bob")).status_code == 429


def test_a_right_password_before_the_limit_forgives_the_failures(services):
    store, now = services.store, datetime.now(timezone.utc)
    for _ in range(4):
        assert store.authenticate("alice", "nope", now) is None
    assert store.authenticate("alice", password_of("alice"), now) is not None
    for _ in range(4):  # the count started again
        assert store.authenticate("alice", "nope", now) is None
    assert store.authenticate("alice", password_of("alice"), now) is not None


def test_back_off_doubles_and_the_lockout_waits_for_an_admin(services):
    store = services.store
    store._users.login_policy = LoginPolicy(free_failures=2, lock_after=5)
    t = datetime.now(timezone.utc)
    assert store.authenticate("alice", "nope", t) is None
    waits = []
    for _ in range(3):  # failures 2, 3, 4: each imposes a wait twice the last one
        assert store.authenticate("alice", "nope", t) is None
        with pytest.raises(LoginRefused, match="try again") as held:
            store.authenticate("alice", password_of("alice"), t)  # even the right one waits
        waits.append(held.value.retry_after)
        t += timedelta(seconds=held.value.retry_after + 1)
    assert waits == [2, 4, 8]
    assert store.authenticate("alice", "nope", t) is None  # the 5th failure: locked
    with pytest.raises(LoginRefused, match="locked") as locked:
        store.authenticate("alice", password_of("alice"), t + timedelta(days=3))
    assert locked.value.retry_after is None
    assert [a.locked for a in store.accounts(t) if a.name == "alice"] == [True]
    assert any(e.subject == "user:alice" for e in store.audit_events(action="user.locked"))
    assert store.unlock_user("alice", "adam", t) is True
    assert store.authenticate("alice", password_of("alice"), t) is not None
    lifted = store.audit_events(action="user.unlocked")
    assert [(e.actor, e.subject, e.payload) for e in lifted] == [("adam", "user:alice", {"lifted": True})]


def test_an_unknown_name_is_held_back_exactly_like_a_known_one(client, slow_waits):
    known = [login(client, "alice", "x").status_code for _ in range(7)]
    unknown = [login(client, "nobody-here", "x").status_code for _ in range(7)]
    assert known == unknown == [401] * 5 + [429] * 2


def test_one_address_trying_many_names_is_held_back(services):
    store, now = services.store, datetime.now(timezone.utc)
    store._users.login_policy = LoginPolicy(address_free_failures=3)
    for i in range(3):
        assert store.authenticate(f"name{i}", "x", now, address="10.0.0.9") is None
    with pytest.raises(LoginRefused, match="this address"):
        store.authenticate("alice", password_of("alice"), now, address="10.0.0.9")
    assert store.authenticate("alice", password_of("alice"), now, address="10.0.0.10") is not None


def test_console_login_is_held_back_too_and_says_so_in_chinese(client, slow_waits):
    page = client.get("/console/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    codes = [client.post("/console/login", data={"username": "alice", "password": "bad", "csrf_token": csrf},
                         follow_redirects=False).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    last = client.post("/console/login", data={"username": "alice", "password": password_of("alice"),
                                               "csrf_token": csrf}, follow_redirects=False)
    assert last.status_code == 429 and "登录失败次数过多" in last.text


# --- sessions ---------------------------------------------------------------------------------

def test_logout_ends_the_token_for_good(client):
    token = login(client, "alice", password_of("alice")).json()["access_token"]
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 204
    r = client.get("/api/auth/me", headers=bearer(token))
    assert r.status_code == 401 and "ended" in r.json()["detail"]


def _console_login(client, name):
    page = client.get("/console/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/console/login", data={"username": name, "password": password_of(name), "csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    return client.cookies.get("patrol_session")


def _csrf(client, path="/console/"):
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).text).group(1)


def test_a_cookie_copied_before_logout_no_longer_works(client):
    cookie = _console_login(client, "alice")
    csrf = _csrf(client)
    assert client.post("/console/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    client.cookies.set("patrol_session", cookie)  # the copy an attacker kept
    assert client.get("/console/", follow_redirects=False).status_code == 303
    assert client.get("/api/auth/me").status_code == 401


@pytest.mark.parametrize("change", [{"active": False}, {"password": "a-new-pass-9"}, {"role": "supervisor"}])
def test_deactivation_password_and_role_changes_end_every_session(client, services, change):
    token = login(client, "alice", password_of("alice")).json()["access_token"]
    services.store.set_user("alice", "adam", datetime.now(timezone.utc), **change)
    if "active" in change:
        services.store.set_user("alice", "adam", datetime.now(timezone.utc), active=True)  # back, but not the token
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
    ended = services.store.audit_events(action="session.ended")
    assert ended and ended[-1].subject == "user:alice" and ended[-1].payload["sessions"] == 1


def test_an_admin_lists_and_ends_a_users_sessions(api, client):
    tokens = [login(client, "bob", password_of("bob")).json()["access_token"] for _ in range(2)]
    listed = api.get("adam", "/api/users/bob/sessions").json()
    assert len(listed) == 2 and {s["kind"] for s in listed} == {"token"}
    assert api.post("adam", f"/api/users/bob/sessions/{listed[0]['id']}/end").status_code == 204
    alive = [client.get("/api/auth/me", headers=bearer(t)).status_code for t in tokens]
    assert sorted(alive) == [200, 401]
    assert api.post("adam", "/api/users/bob/sessions/end").json() == {"ended": 1}
    assert all(client.get("/api/auth/me", headers=bearer(t)).status_code == 401 for t in tokens)
    assert api.post("adam", f"/api/users/bob/sessions/{listed[0]['id']}/end").status_code == 404


# --- user management over the API -------------------------------------------------------------

def test_admin_manages_users_each_step_audited(api, client, services):
    assert api.post("adam", "/api/users", json={"name": "wang.li", "role": "officer",
                                                "password": "long-enough-1"}).status_code == 201
    assert api.post("adam", "/api/users", json={"name": "wang.li", "role": "officer",
                                                "password": "long-enough-1"}).status_code == 409
    assert api.post("adam", "/api/users/wang.li/role", json={"role": "supervisor"}).json()["role"] == "supervisor"
    assert api.post("adam", "/api/users/wang.li/disable").json()["active"] is False
    assert login(client, "wang.li", "long-enough-1").status_code == 401
    assert api.post("adam", "/api/users/wang.li/enable").json()["active"] is True
    assert api.post("adam", "/api/users/wang.li/password", json={"password": "another-one-2"}).status_code == 200
    assert login(client, "wang.li", "another-one-2").status_code == 200
    listed = {a["name"]: a for a in api.get("adam", "/api/users").json()}
    assert listed["wang.li"]["role"] == "supervisor" and listed["wang.li"]["live_sessions"] == 1
    actions = [e.action for e in services.store.audit_events(subject="user:wang.li", limit=100)]
    assert actions.count("user.changed") == 4 and "user.added" in actions


@pytest.mark.parametrize("name", ["li\nadmin", "li si", "", "-dash", "x" * 65, "名字", "a/b"])
def test_user_names_outside_the_charset_are_refused(api, name):
    r = api.post("adam", "/api/users", json={"name": name, "role": "officer", "password": "long-enough-1"})
    assert r.status_code == 422
    assert name not in r.text or not name


@pytest.mark.parametrize("password", ["short", "password", "DEMO", "changeme"])
def test_weak_or_default_passwords_are_refused(api, password):
    r = api.post("adam", "/api/users", json={"name": "zhao", "role": "officer", "password": password})
    assert r.status_code == 422


def test_only_admins_manage_users(api):
    for name in ("alice", "sue", "audrey"):
        assert api.get(name, "/api/users").status_code == 403
        assert api.post(name, "/api/users/bob/disable").status_code == 403
    assert api.post("adam", "/api/users/ghost/disable").status_code == 404


# --- the console page -------------------------------------------------------------------------

def test_console_admin_page_disables_a_user_and_others_may_not_see_it(client, services):
    _console_login(client, "adam")
    page = client.get("/console/admin/users")
    assert page.status_code == 200 and 'data-user="alice"' in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    csrf = _csrf(client, "/console/admin/users")
    forged = client.post("/console/admin/users/alice/disable", data={"csrf_token": "x"}, follow_redirects=False)
    assert forged.status_code == 303 and services.store.get_user("alice").active
    done = client.post("/console/admin/users/alice/disable", data={"csrf_token": csrf}, follow_redirects=True)
    assert "已停用 alice" in done.text and not services.store.get_user("alice").active
    bad = client.post("/console/admin/users/add", data={"csrf_token": csrf, "name": "a\nb", "role": "officer",
                                                        "password": "long-enough-1"}, follow_redirects=True)
    assert "操作未完成：用户名须为" in bad.text and services.store.get_user("a\nb") is None
    client.cookies.clear()
    _console_login(client, "bob")
    assert client.get("/console/admin/users").status_code == 403
    client.cookies.clear()
    assert client.get("/console/admin/users", follow_redirects=False).headers["location"].startswith("/console/login")


# --- body caps and 422 answers ----------------------------------------------------------------

def test_a_body_over_the_cap_is_413_before_it_is_read(api, seed):
    alert_id, _ = seed.post("出冰", category="drugs")
    huge = b'{"text": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    r = api.post("alice", f"/api/alerts/{alert_id}/notes", content=huge,
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "at most" in r.json()["detail"]


def test_a_chunked_body_over_the_cap_is_413_too(api, seed):
    alert_id, _ = seed.post("出冰", category="drugs")

    def chunks():
        yield b'{"text": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    r = api.post("alice", f"/api/alerts/{alert_id}/notes", content=chunks(),
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_a_422_names_the_field_and_reason_and_never_repeats_the_input(api, seed):
    alert_id, _ = seed.post("出冰", category="drugs")
    marker = "不该回显的内容" * 2000
    r = api.post("alice", f"/api/alerts/{alert_id}/notes", json={"text": marker})
    assert r.status_code == 422
    assert "不该回显" not in r.text and len(r.content) < 1000
    problem = r.json()["detail"][0]
    assert problem["loc"] == ["body", "text"] and "at most" in problem["msg"] and set(problem) == {"loc", "msg", "type"}
    r = api.post("alice", f"/api/alerts/{alert_id}/notes", json={"text": "ok", "k" * 5000: 1})
    assert r.status_code == 422 and len(r.content) < 1000


def test_a_bad_alert_cursor_is_explained_in_words(api):
    r = api.get("alice", "/api/alerts", params={"cursor": "e30"})  # base64 of {}
    assert r.status_code == 400
    assert "Error" not in r.json()["detail"] and "cursor" in r.json()["detail"]
