"""`patrol export-labels`, `recall-sample`, `model …` and `adapt`'s lifecycle refusals as a user
runs them (real stores under a temp PATROL_HOME), and the registry and the live analyzer under
them. The lifecycle's training and promotion run for real in tests/test_lifecycle_end_to_end.py."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import app
from app.live_model import LiveAnalyzer
from nlp.analyzer import Analyzer
from patrol.alerts import evaluate_rules, load_rules
from patrol.model_registry import AdaptBusy, ModelRegistry, RegistryChanged, RegistryError
from patrol.model_lifecycle import dev_sample, judge
from patrol.posts import RawPost
from patrol.reviews import Decision
from patrol.settings import Settings
from patrol.store import PostRecord, Store

BUNDLED_MODEL = Path(__file__).resolve().parents[2] / "nlp" / "data" / "model" / "patrol-model.skops"
NOW = datetime.now(timezone.utc)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_HOME", str(tmp_path / "home"))
    for var in ("PATROL_DATABASE_URL", "PATROL_MODEL_PATH", "PATROL_ELASTICSEARCH_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def run(*args):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _store(home: Path) -> Store:
    from app.bootstrap import build_store

    return build_store(Settings(home=home))  # with the home's audit key, as the commands open it


def _decided_post(store: Store, n: int, text: str, decision: Decision) -> str:
    raw = RawPost(source="forum", url=f"https://bbs.example.cn/t/{n}", external_id=f"t{n}", text=text,
                  title="", author="secret-author-name", published_at=NOW, fetched_at=NOW, content_sha256=f"{n:064x}")
    from nlp.analysis import Analysis

    analysis = Analysis(primary="drugs", labels=("drugs",), scores={"drugs": 0.9}, evidence=(), model_version="t")
    alert = evaluate_rules(raw, analysis, load_rules(), NOW)
    store.save_batch([PostRecord.from_raw(raw, analysis)], [alert], NOW)
    if store.get_user("li") is None:
        store.add_user("li", "officer", "li-password")
    store.claim(alert.id, "li", NOW)
    store.decide(alert.id, decision, "li", NOW)
    return raw.id


def test_export_labels_writes_the_rows_and_says_which_labels_it_skipped_and_why(home, tmp_path):
    store = _store(home)
    kept = _decided_post(store, 1, "出冰 同城面交", Decision("confirm", disposition="reported"))
    gone = _decided_post(store, 2, "溜冰 加薇", Decision("dismiss", reason="false_positive"))
    with store.engine.begin() as conn:  # the version the officer read is no longer stored
        conn.execute(sa.text("DELETE FROM post_versions WHERE post_id = :p"), {"p": gone})
    store.close()
    result = run("export-labels", "--out", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["category"]) for r in rows] == [(f"officer_decisions:{kept}", "drugs")]
    assert "secret-author-name" not in (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    assert f"post {gone}: no longer stored" in result.stderr and "skipped 1" in result.stderr
    assert run("export-labels", "--since", "2999-01-01").stdout == ""
    bad = run("export-labels", "--since", "yesterday")
    assert bad.exit_code == 2 and "--since 'yesterday': not a date" in bad.stderr


def test_adapt_refuses_broken_labels_files_by_line_and_trains_nothing(home, tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "text": "出冰", "category": "drugs"}\n{not json\n', encoding="utf-8")
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_text('{"id": "a", "text": "出冰", "category": "politics"}\n', encoding="utf-8")
    for path, line in ((broken, 2), (unknown, 1)):
        result = run("adapt", "--extra", str(path))
        assert result.exit_code == 2 and f"{path}:{line}:" in result.stderr and "nothing was trained" in result.stderr
    assert ModelRegistry(home).list() == []


def test_adapt_without_labels_in_the_store_says_what_to_do_and_out_needs_labels(home):
    result = run("adapt")
    assert result.exit_code == 1 and "no labels to train on" in result.stderr
    result = run("adapt", "--out", "x.skops")
    assert result.exit_code == 2 and "--out goes with --labels" in result.stderr


def test_adapt_while_another_runs_is_refused(home):
    with ModelRegistry(home).adapt_lock():
        result = run("adapt")
    assert result.exit_code == 3 and "another patrol adapt is running (pid" in result.stderr


def test_model_commands_promote_list_and_roll_back_with_audit_events(home):
    registry = ModelRegistry(home)
    registry.add(BUNDLED_MODEL, "v-one", {"verdict": "refused", "reason": "by test"})
    registry.add(BUNDLED_MODEL, "v-two", {"verdict": "promoted"})
    assert run("model", "promote", "nope").exit_code == 2
    assert run("model", "rollback").exit_code == 2
    assert run("model", "promote", "v-one").exit_code == 0
    assert run("model", "promote", "v-two").exit_code == 0
    listed = run("model", "list").stdout
    assert "* v-two" in listed and "  v-one" in listed
    result = run("model", "rollback")
    assert result.exit_code == 0 and "v-one is in use again" in result.stdout
    assert registry.current() == "v-one"
    store = _store(home)
    actions = [(e.action, e.payload.get("version")) for e in store.audit_events(limit=100)]
    assert actions[-3:] == [("model.promoted", "v-one"), ("model.promoted", "v-two"), ("model.rolled_back", "v-two")]


def test_recall_sample_command_draws_once_a_day(home):
    store = _store(home)
    for n in range(5):
        raw = RawPost(source="forum", url=f"https://x.cn/{n}", external_id=f"q{n}", text=f"普通帖子{n}", title="",
                      author="a", published_at=NOW, fetched_at=NOW, content_sha256=f"{n:064x}")
        store.save_batch([PostRecord.from_raw(raw, None)], [], NOW)
    store.close()
    first = run("recall-sample", "--size", "3", "--day", NOW.date().isoformat())
    assert first.exit_code == 0 and "3 post(s)" in first.stdout
    assert run("recall-sample", "--size", "5").stdout == first.stdout  # the day's sample stays
    assert run("recall-sample", "--day", "12/08").exit_code == 2


def test_the_registry_refuses_a_promotion_judged_against_a_model_no_longer_in_use(tmp_path):
    registry = ModelRegistry(tmp_path)
    registry.add(BUNDLED_MODEL, "v-a", {})
    registry.add(BUNDLED_MODEL, "v-b", {})
    registry.promote("v-a")
    with pytest.raises(RegistryChanged, match="changed from bundled to v-a"):
        registry.promote("v-b", expected_current=None)
    assert registry.current() == "v-a"
    with registry.adapt_lock():
        with pytest.raises(AdaptBusy):
            with registry.adapt_lock():
                pass
    for bad in ("../etc", ".hidden", "bundled", ""):
        with pytest.raises(RegistryError):
            registry.get(bad)


def test_the_live_analyzer_follows_promotions_and_keeps_its_model_when_a_promoted_file_is_broken(tmp_path):
    registry = ModelRegistry(tmp_path)
    built = []

    def build(path):
        built.append(path)
        return Analyzer.default(model_path=path)

    live = LiveAnalyzer(registry, build, check_every=0)
    assert built == [None] and live.analyse("出冰 同城面交").primary == "drugs"
    registry.add(BUNDLED_MODEL, "v-a", {})
    registry.promote("v-a")
    assert live.refresh() and built[-1] == registry.model_path("v-a")
    first = live.analyzer
    registry.add(BUNDLED_MODEL, "v-b", {})
    registry.promote("v-b")
    shutil.rmtree(registry.model_path("v-b").parent)
    assert not live.refresh() and live.analyzer is first  # logged, and the model in use stays


def test_judging_is_against_the_current_model_with_a_tolerance_and_dev_rows_are_a_stable_sample():
    rows = [{"id": str(i), "text": t, "category": c} for i, (t, c) in enumerate(
        [("出冰 同城面交 加薇", "drugs"), ("今天天气不错，去公园散步", "none")] * 3)]
    analyzer = Analyzer.default()
    ok, reason, figures = judge({"held_back": rows}, analyzer, analyzer, 0.0)
    assert ok and figures["held_back"]["delta"] == 0.0 and "not worse" in reason
    sample = dev_sample(rows * 10, per_category=4)
    assert sorted(r["category"] for r in sample) == ["drugs"] * 4 + ["none"] * 4
    assert sample == dev_sample(rows * 10, per_category=4)


def test_a_clearly_worse_analyzer_is_refused_with_its_figures():
    from nlp.evaluate import read_jsonl
    from nlp.lexicon import Lexicon
    from patrol.model_lifecycle import shipped_dev_files

    rows = dev_sample([r for p in shipped_dev_files() for r in read_jsonl(p)], 20)
    rules_only = Analyzer(Lexicon.load(None), model=None)  # the shipped lexicons without the model
    ok, reason, figures = judge({"dev": rows}, rules_only, Analyzer.default(), 0.01)
    assert not ok and reason.startswith("worse than the current model on dev")
    assert figures["dev"]["rows_lost"] > figures["dev"]["rows_won"]
