"""Issue 15 end to end on the demo, through the HTTP API and the real `patrol` command: officers
decide alerts (one with a corrected category) and label the recall sample, `patrol export-labels`
writes them, `patrol adapt` trains (the real nlp.adapt) and promotes, the running server picks the
new model up without a restart and classifies posts differently; a model made worse on purpose is
refused and the audit trail says why; a second adapt while one runs is refused; `patrol model
rollback` restores the previous version in the running server too."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.main import create_app
from app.bootstrap import build_services
from app.demo import crawl_demo_site, ensure_demo_user
from demosite.server import DemoSite
from demosite.sources import BOARD_SOURCE_NAMES
from patrol.labels import held_back
from patrol.model_registry import ModelRegistry
from patrol.posts import post_id_for
from patrol.settings import Settings
from tests.live_server import live_app

pytestmark = pytest.mark.slow
PATROL = [sys.executable, "-m", "app.cli"]
REPO = Path(__file__).resolve().parent.parent


def _patrol(home: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATROL_")} | {"PATROL_HOME": str(home)}
    return subprocess.run([*PATROL, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    home = tmp_path_factory.mktemp("patrol-home")
    settings = Settings(home=home, database_url=None, elasticsearch_url=None, redis_url=None, model_path=None)
    services = build_services(settings)
    site = DemoSite()
    site.start()
    crawl_demo_site(services, site)
    ensure_demo_user(services, "127.0.0.1")
    services.store.add_user("sue", "supervisor", "sue-password")
    services.store.add_user("audrey", "auditor", "audrey-password")
    truth = {post_id_for(BOARD_SOURCE_NAMES[t.fid], f"{t.tid}-{f.pid}"): f.label for t, f in site.catalogue.all_floors()}
    with live_app(create_app(services)) as base_url:
        clients = {}
        for name, password in (("demo", "demo"), ("sue", "sue-password"), ("audrey", "audrey-password")):
            c = httpx.Client(base_url=base_url, timeout=120)
            token = c.post("/api/auth/token", data={"username": name, "password": password}).json()["access_token"]
            c.headers["Authorization"] = f"Bearer {token}"
            clients[name] = c
        yield home, services, truth, clients
        for c in clients.values():
            c.close()
    site.stop()
    services.close()


def _classify(client, text: str) -> dict:
    r = client.post("/api/models/classify", json={"text": text})
    assert r.status_code == 200, r.text
    return r.json()


def _wait_for_version(client, text: str, want, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        got = _classify(client, text)
        if want(got["model_version"]) or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def _audit(client, action: str) -> list[dict]:
    r = client.get("/api/audit", params={"action": action, "limit": 1000})
    assert r.status_code == 200, r.text
    return r.json()["events"]


def test_decisions_and_samples_train_a_model_the_server_picks_up_a_worse_one_is_refused_and_rollback_restores(demo, tmp_path):
    home, services, truth, http = demo
    officer, supervisor, auditor = http["demo"], http["sue"], http["audrey"]

    # 1. Officers decide every alert: false positives dismissed, a wrong category corrected.
    alerts = officer.get("/api/alerts", params={"limit": 200}).json()["items"]
    assert len(alerts) >= 20
    corrected = []
    for a in alerts:
        assert officer.post(f"/api/alerts/{a['id']}/claim").status_code == 200
        real = truth.get(a["post_id"], "none")
        if real == "none":
            body = {"action": "dismiss", "reason": "false_positive"}
        elif real != a["category"]:
            body = {"action": "confirm", "disposition": "reported", "category": real}
            corrected.append((a["post_id"], a["category"], real))
        else:
            body = {"action": "confirm", "disposition": "reported"}
        r = officer.post(f"/api/alerts/{a['id']}/decision", json=body)
        assert r.status_code == 200, r.text
    assert corrected, "the demo has an alert whose category the officer corrects"
    post_id, said, real = corrected[0]
    [label] = officer.get(f"/api/labels/posts/{post_id}").json()
    assert (label["category"], label["predicted"], label["labelled_by"]) == (real, said, "demo")

    # 2. The recall sample: drawn by a supervisor, labelled by the officer.
    drawn = supervisor.post("/api/recall-sample", json={"size": 40, "seed": 7}).json()
    assert len(drawn) == 40 and not {p["post_id"] for p in drawn} & {a["post_id"] for a in alerts}
    for p in drawn:
        r = officer.post("/api/labels", json={"post_id": p["post_id"], "category": truth.get(p["post_id"], "none"),
                                              "origin": "recall_sample"})
        assert r.status_code == 201, r.text
    assert officer.get("/api/recall-sample").json() == []
    figures = officer.get("/api/labels/figures").json()
    # a decision labels its post: the demo's burst (ops_trend) alerts have none
    post_alerts = [a for a in alerts if a["post_id"]]
    assert figures["sampled_labelled"] == 40 and figures["decisions"] == len(post_alerts)

    # 3. export-labels: one row per labelled post, the shared row format, no author.
    out = tmp_path / "labels.jsonl"
    done = _patrol(home, "export-labels", "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(post_alerts) + 40
    assert all(set(r) == {"id", "text", "category", "dataset", "split"} and r["dataset"] == "officer_decisions"
               and r["split"] == "train" for r in rows)
    assert {r["id"]: r["category"] for r in rows}[f"officer_decisions:{post_id}"] == real

    # 4. What the model in use says about the posts the candidate will train on.
    trained_on = [r for r in rows if not held_back(r["id"])]
    old_version = _classify(officer, rows[0]["text"])["model_version"]
    before = {r["id"]: _classify(officer, r["text"])["primary"] for r in trained_on}

    # 5. patrol adapt: trains on the store's labels, judges, promotes.
    done = _patrol(home, "adapt", "--dev-per-category", "10")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "promoted" in done.stdout
    registry = ModelRegistry(home)
    new_version = registry.current()
    assert new_version and new_version in done.stdout
    promoted = _audit(auditor, "model.promoted")[-1]
    assert promoted["payload"]["version"] == new_version and "held_back" in promoted["payload"]["figures"]

    # 6. The running server picks it up without a restart, and classifies posts differently.
    got = _wait_for_version(officer, rows[0]["text"], lambda v: v != old_version)
    assert got["model_version"].startswith(new_version), got
    after = {r["id"]: _classify(officer, r["text"])["primary"] for r in trained_on}
    changed = [r for r in trained_on if after[r["id"]] != before[r["id"]]]
    assert changed, "the promoted model classifies none of its training posts differently"
    assert any(after[r["id"]] == r["category"] for r in changed)
    wrong_before = sum(before[r["id"]] != r["category"] for r in trained_on)
    assert sum(after[r["id"]] != r["category"] for r in trained_on) < wrong_before

    # 7. A model made worse on purpose (every label moved to another category) is refused.
    cats = sorted({r["category"] for r in rows} | {"fraud", "gambling"})
    poison = tmp_path / "poison.jsonl"
    poison.write_text("".join(json.dumps({"id": f"poison:{i}", "text": r["text"],
                                          "category": cats[(cats.index(r["category"]) + 1) % len(cats)]},
                                         ensure_ascii=False) + "\n" for i, r in enumerate(rows)), encoding="utf-8")
    done = _patrol(home, "adapt", "--extra", str(poison), "--dev-per-category", "10")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "refused" in done.stdout and "worse than the current model" in done.stdout
    refused = _audit(auditor, "model.refused")[-1]
    assert "worse than the current model" in refused["payload"]["reason"]
    assert refused["payload"]["baseline"] == new_version
    assert any(f["candidate"]["macro_f1"] < f["current"]["macro_f1"] for f in refused["payload"]["figures"].values())
    assert registry.current() == new_version
    listed = _patrol(home, "model", "list")
    assert refused["payload"]["version"] in listed.stdout and "refused" in listed.stdout

    # 8. Two adapts at once: the second is refused while the first holds the lock.
    with registry.adapt_lock():
        done = _patrol(home, "adapt", timeout=120)
    assert done.returncode == 3 and "another patrol adapt is running" in done.stderr
    assert registry.current() == new_version

    # 9. rollback restores the previous (bundled) model, in the running server too, audited.
    done = _patrol(home, "model", "rollback")
    assert done.returncode == 0, done.stderr
    assert registry.current() is None
    got = _wait_for_version(officer, rows[0]["text"], lambda v: v == old_version)
    assert got["model_version"] == old_version
    rolled = _audit(auditor, "model.rolled_back")[-1]
    assert (rolled["payload"]["version"], rolled["payload"]["restored"]) == (new_version, "bundled")
    assert services.store.verify_audit().ok
