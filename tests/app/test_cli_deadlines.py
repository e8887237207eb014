"""`patrol deadlines check` over a real store under a temp PATROL_HOME."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from typer.testing import CliRunner

from app.cli import app
from nlp.analysis import Analysis
from patrol.alerts import evaluate_rules, load_rules
from patrol.posts import RawPost
from patrol.settings import Settings
from patrol.store import PostRecord, Store


def test_deadlines_check_tells_the_supervisor_once_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_HOME", str(tmp_path / "home"))
    for name in ("PATROL_DATABASE_URL", "PATROL_ELASTICSEARCH_URL", "PATROL_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "home").mkdir()
    from app.bootstrap import build_audit_key

    store = Store(Settings().resolved_database_url, password_rounds=4, audit_key=build_audit_key(Settings()))
    store.add_user("zhao", "supervisor", "zhao-password")
    opened = datetime.now(timezone.utc) - timedelta(hours=1)
    raw = RawPost(source="f", url="https://x.example/1", external_id="1", text="我不想活了", title="", author="a",
                  published_at=opened, fetched_at=opened, content_sha256="0" * 64)
    an = Analysis(primary="self_harm", labels=("self_harm",), scores={"self_harm": 0.9}, evidence=(), trail=(),
                  normalised="我不想活了", model_version="t")
    alert = evaluate_rules(raw, an, load_rules(), opened)
    store.save_batch([PostRecord.from_raw(raw, an)], [alert], opened)
    store.close()
    runner = CliRunner()
    first = runner.invoke(app, ["deadlines", "check"])
    assert first.exit_code == 0, first.output
    assert f"{alert.id} (self_harm) overdue by 45 min: told zhao" in first.output
    assert "1 passed deadline(s) noticed" in first.output
    again = runner.invoke(app, ["deadlines", "check"])
    assert again.exit_code == 0 and "0 passed deadline(s) noticed" in again.output
