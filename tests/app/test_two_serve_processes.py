"""Two `patrol serve` processes on one PostgreSQL give one answer: a claim is exclusive across the
processes and no decision or note is lost to a race between them.

Real processes (the `patrol` command, uvicorn), the real PostgreSQL that scripts/services.sh starts
(PATROL_TEST_DATABASE_URL), real HTTP on loopback. Officers alice and bob hammer the same alerts
at the same moment, alice through one process and bob through the other."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from threading import Barrier

import httpx
import pytest
import sqlalchemy as sa

from tests.live_server import free_port

PG_URL = os.environ.get("PATROL_TEST_DATABASE_URL")
# Texts different enough that no two alerts group as near-duplicates (patrol/grouping.py): each
# race below is about one alert, not a group decided together.
_POOL = "天地人山水风云日月星花草木石金土火江河湖海春夏秋冬东南西北前后左右上下大小多少高低长短新旧"


def _filler(i: int) -> str:
    import random

    return "".join(random.Random(i).choices(_POOL, k=24))


# Every process writing one database holds the same audit key (docs/AUDIT.md): from the environment.
AUDIT_KEY = "two-processes-shared-audit-key"
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="PATROL_TEST_DATABASE_URL is not set: no PostgreSQL to run two servers on"),
]
PATROL = Path(sys.executable).with_name("patrol")
N_ALERTS = 12
PASSWORD = "pw-two-processes"


def _wipe(url: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def _seed(url: str) -> list[str]:
    """Two officers and N_ALERTS open alerts, written through the store as an ingest would."""
    from nlp.analysis import Analysis
    from patrol.alerts import evaluate_rules, load_rules
    from patrol.posts import RawPost
    from patrol.store import PostRecord, Store

    from patrol.audit_key import AuditKey

    store = Store(url, password_rounds=4, audit_key=AuditKey(AUDIT_KEY.encode(), "PATROL_AUDIT__KEY"))
    for name in ("alice", "bob"):
        store.add_user(name, "officer", PASSWORD)
    now = datetime.now(timezone.utc)
    rules, records, alerts = load_rules(), [], []
    for i in range(N_ALERTS):
        raw = RawPost(source="city-forum", url=f"https://bbs.example.cn/t/{i}", external_id=f"t{i}",
                      text=f"出冰，{_filler(i)}", author=f"u{i}", published_at=now - timedelta(minutes=5),
                      fetched_at=now, content_sha256=f"{i:064x}")
        analysis = Analysis(primary="drugs", labels=("drugs",), scores={"drugs": 0.95}, model_version="test-1")
        records.append(PostRecord.from_raw(raw, analysis))
        alerts.append(evaluate_rules(raw, analysis, rules, now))
    report = store.save_batch(records, alerts, now)
    store.close()
    assert len(report.opened_alert_ids) == N_ALERTS
    return report.opened_alert_ids


@pytest.fixture
def two_servers(tmp_path):
    _wipe(PG_URL)
    alert_ids = _seed(PG_URL)
    env = {**os.environ, "PATROL_HOME": str(tmp_path / "home"), "PATROL_DATABASE_URL": PG_URL,
           "PATROL_API__SECRET_KEY": "two-processes-shared-secret", "PATROL_ELASTICSEARCH_URL": "",
           "PATROL_AUDIT__KEY": AUDIT_KEY}
    env.pop("PATROL_ELASTICSEARCH_URL")
    subprocess.run([str(PATROL), "init"], env=env, check=True, capture_output=True, timeout=120)
    procs, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            procs.append(subprocess.Popen([str(PATROL), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 90
        for proc, url in zip(procs, urls):
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"patrol serve exited: {proc.stderr.read().decode()[-2000:]}")
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"patrol serve at {url} did not answer within 90 s")
                time.sleep(0.3)
        assert procs[0].pid != procs[1].pid
        yield urls, alert_ids
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _client(url: str, name: str) -> httpx.Client:
    r = httpx.post(f"{url}/api/auth/token", data={"username": name, "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {r.json()['access_token']}"})


def _race(calls) -> list[httpx.Response]:
    """Run the calls at the same instant, one thread each."""
    barrier = Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_a_claim_is_exclusive_across_two_server_processes(two_servers):
    (url_a, url_b), alert_ids = two_servers
    alice, bob = _client(url_a, "alice"), _client(url_b, "bob")
    winners = {}
    for alert_id in alert_ids:
        ra, rb = _race([lambda: alice.post(f"/api/alerts/{alert_id}/claim"),
                        lambda: bob.post(f"/api/alerts/{alert_id}/claim")])
        codes = sorted([ra.status_code, rb.status_code])
        assert codes == [200, 409], (ra.text, rb.text)
        winners[alert_id] = "alice" if ra.status_code == 200 else "bob"
    # both processes now say the same thing about every alert
    for alert_id, winner in winners.items():
        seen = {c.get(f"/api/alerts/{alert_id}").json()["assignee"] for c in (alice, bob)}
        assert seen == {winner}


def test_racing_decisions_keep_exactly_one_and_racing_notes_keep_both(two_servers, tmp_path):
    (url_a, url_b), alert_ids = two_servers
    clients = {("alice", "A"): _client(url_a, "alice"), ("alice", "B"): _client(url_b, "alice"),
               ("bob", "A"): _client(url_a, "bob"), ("bob", "B"): _client(url_b, "bob")}
    alice, bob = clients["alice", "A"], clients["bob", "B"]
    confirm = {"action": "confirm", "disposition": "reported"}
    dismiss = {"action": "dismiss", "reason": "false_positive"}
    for alert_id in alert_ids:
        ra, rb = _race([lambda: alice.post(f"/api/alerts/{alert_id}/claim"),
                        lambda: bob.post(f"/api/alerts/{alert_id}/claim")])
        holder, other = ("alice", "bob") if ra.status_code == 200 else ("bob", "alice")
        # The holder decides through both processes at once (two tabs, a double click), and the
        # other officer tries to decide at the same moment: one decision, and only one, is kept.
        calls = [("A", confirm, holder), ("B", dismiss, holder), ("A", confirm, other)]
        responses = _race([lambda c=c: clients[c[2], c[0]].post(f"/api/alerts/{alert_id}/decision", json=c[1])
                           for c in calls])
        codes = [r.status_code for r in responses]
        assert sorted(codes) == [200, 409, 409], [r.text for r in responses]
        won = calls[codes.index(200)]
        expected = "confirmed" if won[1] is confirm else "dismissed"
        assert won[2] == holder
        detail = alice.get(f"/api/alerts/{alert_id}").json()
        assert detail["status"] == expected and detail["decided_by"] == holder
        assert bob.get(f"/api/alerts/{alert_id}").json()["status"] == expected
        decided = [e for e in detail["history"] if e["type"] == "alert.decided"]
        assert len(decided) == 1 and decided[0]["actor"] == holder
        # Notes from both processes at once: neither overwrites the other.
        na, nb = _race([lambda: alice.post(f"/api/alerts/{alert_id}/notes", json={"text": "alice was here"}),
                        lambda: bob.post(f"/api/alerts/{alert_id}/notes", json={"text": "bob was here"})])
        assert (na.status_code, nb.status_code) == (201, 201), (na.text, nb.text)
        notes = {n["text"] for n in bob.get(f"/api/alerts/{alert_id}").json()["notes"]}
        assert notes == {"alice was here", "bob was here"}
    # Every write of both processes went onto one unbroken audit chain.
    env = {**os.environ, "PATROL_DATABASE_URL": PG_URL, "PATROL_AUDIT__KEY": AUDIT_KEY,
           "PATROL_HOME": str(tmp_path / "home")}
    verify = subprocess.run([str(PATROL), "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stderr
    assert "intact" in verify.stdout
