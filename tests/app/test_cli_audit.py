"""`patrol audit verify|checkpoint` and `patrol retention run` as an operator runs them."""
from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from app.cli import app


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)

    def invoke(*args, input=None):
        result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
        return result.exit_code, result.output

    assert invoke("init")[0] == 0
    return invoke


def test_checkpoint_then_truncation_is_reported_by_verify(run, tmp_path):
    for name in ("li", "wang", "zhao"):
        assert run("users", "add", name, "--role", "officer", "--password-stdin", input="a-long-password\n")[0] == 0
    code, out = run("audit", "checkpoint")
    assert code == 0 and "for the notary:" in out and "3 event(s)" in out
    line = json.loads(next(x for x in out.splitlines() if x.startswith("{")))  # the notary's line
    assert line["seq"] == 3 and len(line["sig"]) == 64
    code, out = run("audit", "verify")
    assert code == 0 and "intact: 3 event(s), keyed" in out and "(seq 3)" in out

    db = sqlite3.connect(tmp_path / "home" / "patrol.db")
    db.executescript("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 3;")
    prev = db.execute("SELECT hash FROM audit WHERE seq = 2").fetchone()[0]
    db.execute("UPDATE audit_head SET seq = 2, hash = ? WHERE id = 1", (prev,))
    db.commit()
    db.close()
    code, out = run("audit", "verify")
    assert code == 1 and "audit trail TRUNCATED at event 3" in out
    code, out = run("audit", "checkpoint")
    assert code == 1 and "no checkpoint written" in out


def test_retention_run_prints_and_audits_its_counts(run, tmp_path, monkeypatch):
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"source": "forum", "url": "https://x.example/1", "text": "今天天气很好"}) + "\n")
    assert run("ingest", str(posts))[0] == 0
    code, out = run("retention", "run")
    assert code == 0 and "retention posts_without_alert: posts 0" in out  # first seen today: kept
    monkeypatch.setenv("PATROL_RETENTION__POSTS_WITHOUT_ALERT_DAYS", "0")
    monkeypatch.setenv("PATROL_RETENTION__PAGES_DAYS", "0")
    code, out = run("retention", "run")
    assert code == 0 and "nothing purged" in out
