"""`patrol ingest` killed mid-run (SIGKILL, no cleanup) and run again on the same file ends with
exactly what one uninterrupted run gives: every post once, the same alerts and groups, one
`alert.opened` per alert, an audit chain that verifies, and every post in the index once. Real
`patrol` processes, real SQLite store, real tantivy index."""
from __future__ import annotations

import collections
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.ingest_bench import jsonl_lines

N_POSTS = 2000
PATROL = str(Path(sys.executable).with_name("patrol"))


def _env(home: Path) -> dict:
    return {**os.environ, "PATROL_HOME": str(home), "PATROL_INDEX_ENGINE": "tantivy",
            "PATROL_CLASSIFY_WORKERS": "1", "PATROL_PROGRESS_INTERVAL": "3600"}


def _patrol(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([PATROL, *args], env=_env(home), capture_output=True, text=True, timeout=timeout)


def _stored_posts(home: Path) -> int:
    db = home / "patrol.db"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    except sqlite3.OperationalError:  # not migrated yet, or busy
        return 0


def _state(home: Path) -> dict:
    from app.bootstrap import build_audit_key, build_services
    from patrol.settings import Settings
    from patrol.store.schema import alerts, audit_log

    settings = Settings(home=home)
    assert build_audit_key(settings) is not None
    services = build_services(settings)
    try:
        store = services.store
        with store.engine.connect() as conn:
            alert_rows = sorted(conn.execute(sa.select(
                alerts.c.id, alerts.c.post_id, alerts.c.category, alerts.c.group_id, alerts.c.group_size,
                alerts.c.status)).all())
            actions = collections.Counter(conn.execute(sa.select(audit_log.c.action)).scalars())
            opened_subjects = collections.Counter(conn.execute(
                sa.select(audit_log.c.subject).where(audit_log.c.action == "alert.opened")).scalars())
        counts = store.counts()
        return {"posts": counts["posts"], "unindexed": counts["posts_unindexed"], "alerts": alert_rows,
                "actions": actions, "opened_twice": [s for s, n in opened_subjects.items() if n > 1],
                "indexed": services.index.count()}
    finally:
        services.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "posts.jsonl"
    path.write_text("".join(line + "\n" for _, line in jsonl_lines(N_POSTS)), encoding="utf-8")
    return path


def test_a_killed_ingest_run_again_ends_exactly_as_one_uninterrupted_run(tmp_path, corpus):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    for home in (killed, clean):
        assert _patrol(home, "init").returncode == 0

    run = subprocess.Popen([PATROL, "ingest", str(corpus)], env=_env(killed),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while _stored_posts(killed) < 600 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=60)
    at_kill = _stored_posts(killed)
    assert 0 < at_kill < N_POSTS, "the run must be killed part-way for this test to say anything"

    again = _patrol(killed, "ingest", str(corpus))
    assert again.returncode == 0, again.stderr
    assert f"{N_POSTS} received" in again.stdout
    whole = _patrol(clean, "ingest", str(corpus))
    assert whole.returncode == 0, whole.stderr

    resumed, reference = _state(killed), _state(clean)
    assert resumed["posts"] == reference["posts"] == N_POSTS
    assert resumed["unindexed"] == 0 and resumed["indexed"] == N_POSTS    # each post in the index once
    assert len(reference["alerts"]) > 100
    assert resumed["alerts"] == reference["alerts"]                       # same alerts, same groups
    assert resumed["opened_twice"] == []
    for action in ("alert.opened", "alert.grouped", "alert.member_attached"):
        assert resumed["actions"][action] == reference["actions"][action], action
    verify = _patrol(killed, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
