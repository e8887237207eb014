"""Totals past the cap over HTTP and in the console: "at least", never a made-up exact number.

The cap is 10,000 in production; here it is lowered to 2 (the indexes read it from their module),
so three matching posts are "past the cap" without writing ten thousand."""
from __future__ import annotations

import re

import pytest

import search.sqlite_index
import search.tantivy_index


@pytest.fixture
def officer(client):
    """A console session (the login form of tests/api/test_console.py)."""
    page = client.get("/console/login", params={"next": "/console/"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/console/login", data={"username": "alice", "password": "pw-alice-secret",
                                             "csrf_token": token, "next": "/console/"}, follow_redirects=False)
    assert r.status_code == 303
    return client


@pytest.fixture
def cap_of_two(monkeypatch):
    monkeypatch.setattr(search.tantivy_index, "TOTAL_CAP", 2)
    monkeypatch.setattr(search.sqlite_index, "TOTAL_CAP", 2)


def test_the_api_says_when_a_total_is_a_lower_bound(api, seed, cap_of_two):
    for i in range(3):
        seed.post(f"私聊 第{i}条", category="drugs")
    seed.post("今天天气很好", category="none", alert=False)
    past = api.get("alice", "/api/search", params={"q": "私聊"}).json()
    assert (past["total"], past["total_relation"]) == (2, "gte")
    exact = api.get("alice", "/api/search", params={"q": "天气"}).json()
    assert (exact["total"], exact["total_relation"], exact["facets_estimated"]) == (1, "eq", False)


def test_the_console_shows_a_capped_total_with_a_plus(officer, seed, cap_of_two):
    for i in range(3):
        seed.post(f"私聊 第{i}条", category="drugs")
    page = officer.get("/console/search", params={"q": "私聊"}).text
    assert "共 2+ 条" in page and 'data-total-relation="gte"' in page
    seed.post("今天天气很好", category="none", alert=False)
    page = officer.get("/console/search", params={"q": "天气"}).text
    assert "共 1 条" in page and 'data-total-relation="eq"' in page
