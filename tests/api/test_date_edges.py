"""Dates at the calendar's edge in the query language: the API, the console and `patrol search`
all go through search.query's one date path, so each answers them (was an unhandled 500)."""
from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from app.cli import app as cli
from tests.api.conftest import password_of

EDGE_QUERIES = ["published:9999-12-31", "published:>9999-12-31", "published:<=9999-12-31",
                "published:0001-01-01", "published:<0001-01-01", "published:9999-12-31T23:59:59.999999",
                "published:..9999-12-31", "published:0001-01-01..9999-12-31", "同城 OR published:>=9999-12-31"]


@pytest.mark.parametrize("q", EDGE_QUERIES)
def test_api_answers_edge_dates(api, seed, q):
    seed.post("出冰，同城面交")
    r = api.get("alice", "/api/search", params={"q": q})
    assert r.status_code == 200, r.text
    everything = q in ("published:<=9999-12-31", "published:..9999-12-31", "published:0001-01-01..9999-12-31")
    assert r.json()["total"] == (1 if everything or q.startswith("同城") else 0)


def test_a_date_before_year_one_in_utc_is_a_positioned_400(api):
    q = "published:0001-01-01T00:00+08:00"
    r = api.get("alice", "/api/search", params={"q": q})
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert detail["position"] == len("published:") and "years 1-9999" in detail["message"]


def test_console_answers_edge_dates(client, seed):
    seed.post("出冰，同城面交")
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/console/login", data={"username": "alice", "password": password_of("alice"),
                                        "csrf_token": token, "next": "/console/"})
    for q in EDGE_QUERIES:
        assert client.get("/console/search", params={"q": q}).status_code == 200, q
    r = client.get("/console/search", params={"q": "published:0001-01-01T00:00+08:00"})
    assert r.status_code == 400 and "years 1-9999" in r.text


def test_patrol_search_answers_edge_dates(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(cli, ["init"]).exit_code == 0
    for q in EDGE_QUERIES:
        result = CliRunner().invoke(cli, ["search", q], catch_exceptions=False)
        assert result.exit_code == 0 and "0 match(es)" in result.output, (q, result.output)
    result = CliRunner().invoke(cli, ["search", "published:0001-01-01T00:00+08:00"], catch_exceptions=False)
    assert result.exit_code == 2 and "years 1-9999" in result.output and "position 10" in result.output
