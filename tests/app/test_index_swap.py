"""The index swap of issue 12, step by step: with the index files moved away, `patrol ingest`
used to create a new empty index, report "30 indexed" and mark the posts indexed; the running API
kept serving the old file; once the original came back those posts were in the store but not in
search, and `patrol reindex` found nothing to do. Here the same steps, with a real API served over
HTTP on loopback, the real `patrol` commands, and real index files moved on disk."""
from __future__ import annotations

import json
import shutil

import httpx
import pytest
from typer.testing import CliRunner

from api.main import create_app
from app.bootstrap import build_services
from app.cli import app as cli
from patrol.settings import ApiSettings, Settings
from tests.live_server import live_app

# What each embedded engine keeps in the home: the tantivy default's directory, or SQLite's files.
ENGINE_FILES = {"tantivy": ("index.tantivy",), "sqlite": ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm")}


def write_posts(path, word: str, n: int = 30) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"source": "city-forum", "url": f"https://bbs.example.cn/{word}/{i}",
                                 "text": f"{word} 今天的天气很好 第{i}帖", "published_at": "2026-11-20T08:00:00+00:00"},
                                ensure_ascii=False) + "\n")


def move_index(src, dst, files) -> None:
    dst.mkdir(exist_ok=True)
    for name in files:
        if (src / name).exists():
            shutil.move(src / name, dst / name)


@pytest.fixture(params=sorted(ENGINE_FILES))
def engine(request, monkeypatch):
    monkeypatch.setenv("PATROL_INDEX_ENGINE", request.param)
    return request.param


@pytest.fixture
def home(tmp_path, monkeypatch, engine):
    home = tmp_path / "home"
    monkeypatch.setenv("PATROL_HOME", str(home))
    monkeypatch.setenv("PATROL_API__SECRET_KEY", "test-secret-key")
    monkeypatch.chdir(tmp_path)
    assert patrol("init")[0] == 0
    return home


def patrol(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def search_total(base, token, q):
    r = httpx.get(f"{base}/api/search", params={"q": q}, headers={"Authorization": f"Bearer {token}"})
    return r.status_code, (r.json().get("total") if r.status_code == 200 else r.json())


def test_index_moved_away_then_back_loses_nothing_and_a_foreign_index_is_refused(home, tmp_path, engine):
    files = ENGINE_FILES[engine]
    write_posts(tmp_path / "a.jsonl", "alphabatch")
    write_posts(tmp_path / "b.jsonl", "betabatch")
    code, out = patrol("ingest", str(tmp_path / "a.jsonl"))
    assert code == 0 and "30 indexed" in out

    services = build_services(Settings(api=ApiSettings(secret_key="test-secret-key")))
    services.store.add_user("li", "officer", "li-password-1")
    with live_app(create_app(services)) as base:
        got = httpx.post(f"{base}/api/auth/token", data={"username": "li", "password": "li-password-1"})
        assert got.status_code == 200, got.text
        token = got.json()["access_token"]
        assert search_total(base, token, "alphabatch") == (200, 30)

        # 1. The index files are moved away while the API runs.
        move_index(home, tmp_path / "away", files)
        health = httpx.get(f"{base}/healthz")
        assert health.status_code == 503 and "moved away" in health.json()["detail"]["index"]
        assert search_total(base, token, "alphabatch")[0] == 503  # not the old file, silently

        # 2. `patrol ingest` stores the posts, indexes none, creates no empty index, says why.
        code, out = patrol("ingest", str(tmp_path / "b.jsonl"))
        assert code == 0
        assert "30 new" in out and "0 indexed" in out and "30 waiting for the index" in out
        assert not (home / files[0]).exists()
        assert services.store.counts()["posts_unindexed"] == 30

        # 3. The original comes back: the API serves it again, `patrol reindex` writes the 30.
        move_index(tmp_path / "away", home, files)
        assert httpx.get(f"{base}/healthz").status_code == 200
        code, out = patrol("reindex")
        assert code == 0 and "reindexed 30 post(s)" in out
        assert search_total(base, token, "betabatch") == (200, 30)
        assert search_total(base, token, "alphabatch") == (200, 30)

        # 4. A foreign index (another database's) swapped in is refused, at open and in /healthz.
        other = tmp_path / "other"
        CliRunner().invoke(cli, ["init"], env={"PATROL_HOME": str(other), "PATROL_INDEX_ENGINE": engine})
        elsewhere = CliRunner().invoke(cli, ["ingest", str(tmp_path / "a.jsonl")],
                                       env={"PATROL_HOME": str(other), "PATROL_INDEX_ENGINE": engine},
                                       catch_exceptions=False)
        assert elsewhere.exit_code == 0
        move_index(home, tmp_path / "ours", files)
        for name in files:
            if (other / name).is_dir():
                shutil.copytree(other / name, home / name)
            elif (other / name).exists():
                shutil.copy(other / name, home / name)
        health = httpx.get(f"{base}/healthz")
        assert health.status_code == 503 and "stamped" in health.json()["detail"]["index"]
        code, out = patrol("ingest", str(tmp_path / "b.jsonl"))  # unchanged posts: nothing to index, no error
        assert code == 0
        code, out = patrol("search", "alphabatch")
        assert code == 3 and "another database" in out

        # 5. `patrol reindex --full` rebuilds it from the store; the running API follows.
        code, out = patrol("reindex", "--full")
        assert code == 0 and "60 post(s)" in out
        assert httpx.get(f"{base}/healthz").status_code == 200
        assert search_total(base, token, "alphabatch") == (200, 30)
        assert search_total(base, token, "betabatch") == (200, 30)
        assert services.store.counts()["posts_unindexed"] == 0
        assert services.store.audit_events(action="index.rebuilt")[0].payload["posts"] == 60
    services.close()


def test_reindex_full_rebuilds_a_missing_index_with_every_post_and_its_alert_status(home, tmp_path, engine):
    write_posts(tmp_path / "a.jsonl", "alphabatch", 5)
    assert patrol("ingest", str(tmp_path / "a.jsonl"))[0] == 0
    for name in ENGINE_FILES[engine]:
        path = home / name
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    code, out = patrol("search", "alphabatch")
    assert code == 3 and "missing" in out
    code, out = patrol("reindex", "--full")
    assert code == 0 and "5 post(s)" in out
    code, out = patrol("search", "alphabatch")
    assert code == 0 and "5 match(es)" in out
