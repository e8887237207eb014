"""The role x route matrix, generated from the OpenAPI schema: every operation the API documents
must have a rule here, so a new route without one fails this test instead of shipping open."""
from __future__ import annotations

import re

import pytest

from patrol.users import ROLES
from tests.api.conftest import USERS, password_of

PUBLIC = "anyone"
EVERY_ROLE = frozenset(ROLES)
REVIEWERS = frozenset({"officer", "supervisor"})
AUDIT = frozenset({"auditor", "admin"})
ADMIN = frozenset({"admin"})

# (method, path template) -> who may call it. Written out by hand on purpose: it is the spec.
RULES: dict[tuple[str, str], frozenset[str] | str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("POST", "/api/auth/token"): PUBLIC,
    ("POST", "/api/auth/logout"): EVERY_ROLE,
    ("GET", "/api/auth/me"): EVERY_ROLE,
    ("GET", "/api/alerts"): EVERY_ROLE,
    ("GET", "/api/alerts/{alert_id}"): EVERY_ROLE,
    ("POST", "/api/alerts/{alert_id}/claim"): REVIEWERS,
    ("POST", "/api/alerts/{alert_id}/release"): REVIEWERS,
    ("POST", "/api/alerts/{alert_id}/decision"): REVIEWERS,
    ("POST", "/api/alerts/{alert_id}/notes"): REVIEWERS,
    ("POST", "/api/alerts/bulk"): frozenset({"supervisor"}),
    ("GET", "/api/search"): EVERY_ROLE,
    ("GET", "/api/posts/{post_id}"): EVERY_ROLE,
    ("GET", "/api/sources"): EVERY_ROLE,
    # issue 13: the public-opinion views
    ("GET", "/api/trends"): EVERY_ROLE,
    ("GET", "/api/events"): EVERY_ROLE,
    ("GET", "/api/events/{event_id}"): EVERY_ROLE,
    ("POST", "/api/events/{event_id}/rename"): REVIEWERS,
    ("POST", "/api/events/{event_id}/dismiss"): REVIEWERS,
    ("POST", "/api/events/{event_id}/merge"): REVIEWERS,
    ("POST", "/api/events/{event_id}/split"): REVIEWERS,
    ("GET", "/api/bursts"): EVERY_ROLE,
    ("GET", "/api/watchlists"): EVERY_ROLE,
    ("PUT", "/api/watchlists/{list_id}"): ADMIN,
    ("DELETE", "/api/watchlists/{list_id}"): ADMIN,
    ("GET", "/api/lexicons"): EVERY_ROLE,
    ("POST", "/api/lexicons/reload"): frozenset({"supervisor", "admin"}),
    ("GET", "/api/audit"): AUDIT,
    ("GET", "/api/audit/verify"): AUDIT,
    ("GET", "/api/users"): ADMIN,
    ("POST", "/api/users"): ADMIN,
    ("POST", "/api/users/{name}/disable"): ADMIN,
    ("POST", "/api/users/{name}/enable"): ADMIN,
    ("POST", "/api/users/{name}/role"): ADMIN,
    ("POST", "/api/users/{name}/password"): ADMIN,
    ("POST", "/api/users/{name}/unlock"): ADMIN,
    ("GET", "/api/users/{name}/sessions"): ADMIN,
    ("POST", "/api/users/{name}/sessions/end"): ADMIN,
    ("POST", "/api/users/{name}/sessions/{session_id}/end"): ADMIN,
    # issue 15: officers' labels, the recall sample, the model registry
    ("POST", "/api/labels"): REVIEWERS,
    ("GET", "/api/labels/posts/{post_id}"): EVERY_ROLE,
    ("GET", "/api/labels/figures"): EVERY_ROLE,
    ("GET", "/api/recall-sample"): EVERY_ROLE,
    ("POST", "/api/recall-sample"): frozenset({"supervisor"}),
    ("GET", "/api/models"): EVERY_ROLE,
    ("POST", "/api/models/classify"): EVERY_ROLE,
}

ONE_USER_PER_ROLE = {role: next(n for n, r in USERS.items() if r == role) for role in ROLES}


def operations(app) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops]


def test_every_documented_operation_has_a_rule_and_every_rule_an_operation(app):
    documented = set(operations(app))
    assert documented - set(RULES) == set(), "routes without a rule in RULES: add one"
    assert set(RULES) - documented == set(), "rules for routes that no longer exist"


def test_every_role_gets_exactly_what_its_rule_says_on_every_route(app, client):
    checked = 0
    for method, template in operations(app):
        rule = RULES[(method, template)]
        # An id nothing has: an allowed caller gets 404 or 422, never a change to real data.
        url = re.sub(r"\{[^}]+\}", "no-such-thing", template)
        for role in (*ROLES, None):
            headers = {}
            if role is not None:
                name = ONE_USER_PER_ROLE[role]
                # a fresh token per cell: the logout cell ends its own
                token = client.post("/api/auth/token", data={"username": name, "password": password_of(name)})
                headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            kwargs = {"json": {}} if method == "POST" and template != "/api/auth/token" else {}
            r = client.request(method, url, headers=headers, **kwargs)
            cell = f"{method} {template} as {role or 'anonymous'}: {r.status_code} {r.text[:200]}"
            assert r.status_code < 500, cell
            if rule == PUBLIC or (role is not None and role in rule):
                assert r.status_code not in (401, 403), cell
            elif role is None:
                assert r.status_code == 401, cell
            else:
                assert r.status_code == 403, cell
            checked += 1
    assert checked == len(RULES) * (len(ROLES) + 1)


@pytest.mark.parametrize("path", ["/console/admin/users"])
def test_console_admin_pages_are_for_admins_only(client, path):
    for role, name in ONE_USER_PER_ROLE.items():
        client.cookies.clear()
        page = client.get("/console/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        client.post("/console/login", data={"username": name, "password": password_of(name), "csrf_token": csrf})
        assert client.get(path).status_code == (200 if role == "admin" else 403), role
