"""Page speed of the console pages of issue 11b (dashboard, handover, audit view, admin pages,
an alert's detail with its thread, group and hashes) with many alerts and posts in the store.

The store (SQLite in a temp dir, the default backend) is filled by bulk INSERTs straight into its
tables, not through ingest: posts in threads of 20 floors (each answering the first), alerts on a
share of them over the last 14 days, a fifth decided, some grouped. The audit trail holds only
what the filling and the page views write (appending 100,000 chained events would take longer
than the pages it serves). Then uvicorn serves the app on loopback and every page is fetched
REPEATS times by a logged-in supervisor and auditor; p50/p95 wall times are printed as JSON.

    python -m bench.pages_bench [n_alerts] [n_posts]      # defaults 100000 1000000
"""
from __future__ import annotations

import json
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from patrol.alerts import alert_id_for_post
from patrol.posts import post_id_for, post_sha256
from patrol.settings import ApiSettings, Settings
from patrol.store import Store
from patrol.store.schema import alerts, posts
from patrol.taxonomy import SEVERITY_RANK

REPEATS = 30
BATCH = 5000
CATEGORIES = (("fraud", "high", 2), ("gambling", "medium", 4), ("drugs", "high", 2), ("self_harm", "critical", 0.25),
              ("illicit_ads", "medium", 8), ("pii_leak", "medium", 4))
OFFICERS = ("li", "wang", "zhao", "qian")


def fill(store: Store, n_alerts: int, n_posts: int, now: datetime) -> str:
    """Returns the id of an alert whose detail page is measured."""
    rnd = random.Random(7)
    every = max(1, n_posts // n_alerts)
    sample = None
    opened = 0
    with store.engine.begin() as conn:
        post_rows, alert_rows = [], []
        for i in range(n_posts):
            tid, floor = divmod(i, 20)
            ext = f"{tid}-{floor}"
            pid = post_id_for("bench-forum", ext)
            text = f"第{i}楼 帖子内容 联系方式 {rnd.randrange(10**6)} 今天天气不错"
            at = now - timedelta(minutes=rnd.randrange(14 * 24 * 60))
            post_rows.append({
                "id": pid, "source": "bench-forum", "external_id": ext, "url": f"http://127.0.0.1/t/{tid}#{floor}",
                "version": 1, "title": "", "text": text, "author": f"u{i % 997}", "published_at": at,
                "first_seen": at, "last_fetched": at, "content_sha256": f"{tid:064x}",
                "version_hash": post_sha256("", text), "deleted_upstream": False, "analysis": None,
                "primary": "none", "labels": [], "indexed": True, "thread_id": str(tid),
                "parent_id": post_id_for("bench-forum", f"{tid}-0") if floor else None,
            })
            if i % every == 0 and opened < n_alerts:
                opened += 1
                cat, sev, hours = CATEGORIES[rnd.randrange(len(CATEGORIES))]
                decided = rnd.random() < 0.2
                aid = alert_id_for_post(pid)
                alert_rows.append({
                    "id": aid, "post_id": pid, "source": "bench-forum", "category": cat, "labels": [cat],
                    "severity": sev, "severity_rank": SEVERITY_RANK[sev], "score": 0.9,
                    "status": "confirmed" if decided else "open", "opened_at": at,
                    "due_at": at + timedelta(hours=hours), "rule": f"{cat}@default", "title": "", "text": text,
                    "url": "", "author": "", "published_at": at, "fetched_at": at, "content_sha256": f"{tid:064x}",
                    "analysis": {}, "post_version": 1, "assignee": None, "claimed_at": None, "escalated": False,
                    "decision": "confirm" if decided else None, "outcome": "reported" if decided else None,
                    "decision_note": "", "decided_by": OFFICERS[i % len(OFFICERS)] if decided else None,
                    "decided_at": at + timedelta(minutes=30) if decided else None,
                    "group_id": None, "group_size": 1,
                })
                sample = sample or aid
            if len(post_rows) >= BATCH:
                conn.execute(posts.insert(), post_rows)
                post_rows = []
                if alert_rows:
                    conn.execute(alerts.insert(), alert_rows)
                    alert_rows = []
        if post_rows:
            conn.execute(posts.insert(), post_rows)
        if alert_rows:
            conn.execute(alerts.insert(), alert_rows)
    return sample


def login(client: httpx.Client, name: str, password: str) -> None:
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/console/login", data={"username": name, "password": password, "csrf_token": token,
                                            "next": "/console/"})
    if r.status_code != 303:
        raise RuntimeError(f"login as {name} failed: HTTP {r.status_code}")


def measure(client: httpx.Client, path: str) -> dict:
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {r.status_code}")
    # first_ms: the first view, which for the dashboard and the handover is the uncached reading
    # (they reuse a reading for 30 s, api/services/reports.py); p50/p95 over all REPEATS views.
    first = times[0]
    times.sort()
    return {"first_ms": round(first, 1), "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 1)}


def main(n_alerts: int = 100_000, n_posts: int = 1_000_000) -> dict:
    from api.main import create_app
    from app.bootstrap import build_services
    from tests.live_server import live_app

    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp), database_url=None, elasticsearch_url=None, redis_url=None,
                            api=ApiSettings(secret_key="bench-secret"))
        svc = build_services(settings)
        svc.__dict__["store"] = store = Store(settings.resolved_database_url, password_rounds=4)
        store.add_user("sup", "supervisor", "bench-password")
        store.add_user("aud", "auditor", "bench-password")
        t = time.perf_counter()
        sample = fill(store, n_alerts, n_posts, now)
        filled_s = time.perf_counter() - t
        counts = store.counts(now)
        out = {"alerts": counts["alerts"], "posts": counts["posts"], "fill_s": round(filled_s, 1), "pages": {}}
        with live_app(create_app(svc)) as base:
            with httpx.Client(base_url=base, timeout=60) as sup, httpx.Client(base_url=base, timeout=600) as aud:
                login(sup, "sup", "bench-password")
                login(aud, "aud", "bench-password")
                aud.get("/console/audit")  # the first view verifies the whole chain once
                for path, client in (("/console/dashboard", sup), ("/console/handover", sup),
                                     ("/console/audit", aud), ("/console/admin", sup), ("/console/admin/rules", sup),
                                     ("/console/admin/sources", sup), (f"/console/alerts/{sample}", sup)):
                    out["pages"][path.replace(sample, "{id}")] = measure(client, path)
        svc.close()
    return out


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(main(*args), indent=2))
