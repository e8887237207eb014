"""Console page speed: the queue and the alert page, p95 over real HTTP on loopback, with a store
of ALERTS alerts and POSTS posts.

    python -m bench.console_pages_bench [--alerts 100000] [--posts 1000000] [--requests 60]

Goal (issue 11): p95 < 200 ms per page with 100,000 alerts and 1,000,000 posts. The default size
is that one; the tests run a smoke size (tests/bench/test_console_pages_bench.py).

What is timed: uvicorn serving the real app (app.bootstrap's services over a SQLite store under a
temp dir, or PATROL_BENCH_DATABASE_URL), an officer logged in through the console's own form, and
for each page REQUESTS GETs one after another (the first few discarded as warm-up): the queue as
it opens (active alerts, severity then deadline, counts, pick-lists), the queue filtered by a
label and sorted newest, its second page (keyset cursor), the rows fragment the live update
fetches, and alert pages of alerts picked at random. Posts and alerts are written with bulk
inserts straight into the tables (the ingest path is benchmarked elsewhere), spread over ten
sources, every category, a tenth of the alerts with a second label; by default a tenth of the
alerts are still active (open, claimed, escalated) and the rest decided, as in a store that has
run for months (`--active 0.7` for a queue that nobody works).

The baseline, measured in the same run against the same server: the login page, which reads
nothing from the store. It is what loopback HTTP, the framework and the machine's load cost
before any page does its own work, so a figure can be read against the load it was taken under;
the run also prints its CPU seconds (client and server share this process) and the load average.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

GOAL_P95_MS = 200.0
WARMUP = 5


def fill(store, n_posts: int, n_alerts: int, seed: int = 0, chunk: int = 5000, active: float = 0.10) -> list[str]:
    """Bulk-insert posts and alerts (alerts about the first n_alerts posts), a fraction `active` of
    them open, claimed or escalated and the rest decided; returns the alert ids."""
    from patrol.alerts import STATUSES, alert_id_for_post
    from patrol.posts import post_id_for
    from patrol.store.schema import alert_labels, alerts, posts
    from patrol.taxonomy import DEFAULT_SEVERITY, HARM_CATEGORIES, SEVERITY_RANK, SLA

    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    sources = [f"bench-forum-{i}" for i in range(10)]
    alert_ids: list[str] = []
    with store.engine.begin() as conn:
        for start in range(0, n_posts, chunk):
            post_rows, alert_rows, label_rows = [], [], []
            for i in range(start, min(start + chunk, n_posts)):
                source = sources[i % len(sources)]
                pid = post_id_for(source, f"p{i}")
                category = HARM_CATEGORIES[i % len(HARM_CATEGORIES)]
                at = now - timedelta(minutes=rng.randint(0, 60 * 24 * 30))
                text = f"第{i}帖 出售 联系方式 手机1381234{i % 10000:04d} 同城面交 " * 2
                post_rows.append({
                    "id": pid, "source": source, "external_id": f"p{i}", "url": f"https://bbs.example.cn/t/{i}",
                    "version": 1, "title": f"帖子 {i}", "text": text, "author": f"u{i % 5000}", "published_at": at,
                    "first_seen": at, "last_fetched": at, "content_sha256": f"{i:064x}", "version_hash": f"{i:064x}",
                    "deleted_upstream": False, "analysis": None, "primary": category if i < n_alerts else "none",
                    "labels": [category] if i < n_alerts else [], "indexed": True})
                if i >= n_alerts:
                    continue
                aid = alert_id_for_post(pid)
                alert_ids.append(aid)
                labels = [category] + ([HARM_CATEGORIES[(i + 3) % len(HARM_CATEGORIES)]] if i % 10 == 0 else [])
                status = rng.choice(STATUSES[:3]) if rng.random() < active else rng.choice(STATUSES[3:])
                severity = DEFAULT_SEVERITY[category]
                alert_rows.append({
                    "id": aid, "post_id": pid, "source": source, "category": category, "labels": labels,
                    "severity": severity, "severity_rank": SEVERITY_RANK[severity], "score": 0.9, "status": status,
                    "opened_at": at, "due_at": at + SLA[category], "rule": f"{category}@default",
                    "title": f"帖子 {i}", "text": text, "url": f"https://bbs.example.cn/t/{i}", "author": f"u{i % 5000}",
                    "published_at": at, "fetched_at": at, "content_sha256": f"{i:064x}",
                    "analysis": {"scores": {category: 0.9}, "evidence": [], "trail": [], "model_version": "bench"},
                    "post_version": 1, "assignee": "bench" if status in ("claimed",) else None, "claimed_at": None,
                    "escalated": status == "escalated", "decision": None, "outcome": None, "decision_note": "",
                    "decided_by": None, "decided_at": None})
                label_rows += [{"alert_id": aid, "label": label} for label in labels]
            conn.execute(posts.insert(), post_rows)
            if alert_rows:
                conn.execute(alerts.insert(), alert_rows)
                conn.execute(alert_labels.insert(), label_rows)
    return alert_ids


def _login(client, name: str, password: str) -> None:
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/console/login", data={"username": name, "password": password, "csrf_token": token,
                                            "next": "/console/"})
    assert r.status_code == 200 and 'id="queue-filters"' in r.text, r.status_code


def time_pages(base_url: str, alert_ids: list[str], requests: int, seed: int = 1) -> dict[str, dict]:
    """p50/p95/max in ms per page, and what each page showed (so a broken page cannot pass)."""
    import httpx

    rng = random.Random(seed)
    out: dict[str, dict] = {}
    with httpx.Client(base_url=base_url, timeout=60, follow_redirects=True) as client:
        _login(client, "bench", "bench-password")
        first = client.get("/console/")
        cursor = re.search(r'href="\?[^"]*cursor=([^"&]+)"', first.text)
        pages = {
            "baseline_login_page": lambda: "/console/login",
            "queue": lambda: "/console/",
            "queue_label_newest": lambda: "/console/?category=gambling&sort=newest",
            "queue_page_2": lambda: f"/console/?cursor={cursor.group(1)}" if cursor else "/console/",
            "queue_rows_fragment": lambda: "/console/queue/rows",
            "alert_detail": lambda: f"/console/alerts/{rng.choice(alert_ids)}",
        }
        for name, url in pages.items():
            times, rows = [], 0
            for i in range(requests + WARMUP):
                target = url()
                t0 = time.perf_counter()
                r = client.get(target)
                elapsed = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    raise RuntimeError(f"{target} answered {r.status_code}")
                if i >= WARMUP:
                    times.append(elapsed)
                rows = (r.text.count('id="alert-detail"') if name == "alert_detail"
                        else r.text.count('name="password"') if name.startswith("baseline")
                        else r.text.count('class="alert-row'))
            times.sort()
            out[name] = {"p50": statistics.median(times), "p95": times[max(0, int(len(times) * 0.95) - 1)],
                         "max": times[-1], "shown": rows}
    return out


def run(n_alerts: int, n_posts: int, requests: int, database_url: str | None = None, active: float = 0.10) -> dict:
    from api.main import create_app
    from app.bootstrap import build_services
    from patrol.settings import ApiSettings, Settings
    from patrol.store import Store
    from tests.live_server import live_app

    with tempfile.TemporaryDirectory(prefix="patrol-console-bench-") as home:
        settings = Settings(home=Path(home), database_url=database_url, elasticsearch_url=None, redis_url=None,
                            api=ApiSettings(secret_key="bench-secret", deadline_check_seconds=0))
        store = Store(settings.resolved_database_url, password_rounds=4)
        t0 = time.perf_counter()
        alert_ids = fill(store, n_posts, n_alerts, active=active)
        store.add_user("bench", "officer", "bench-password")
        fill_s = time.perf_counter() - t0
        store.close()
        services = build_services(settings)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        try:
            with live_app(create_app(services)) as base_url:
                figures = time_pages(base_url, alert_ids, requests)
        finally:
            services.close()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"alerts": n_alerts, "posts": n_posts, "active": active, "fill_seconds": fill_s, "pages": figures,
            "cpu_seconds": cpu, "wall_seconds": wall}


def main(argv: list[str] | None = None) -> int:
    import os
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--active", type=float, default=0.10,
                        help="fraction of alerts still open/claimed/escalated (the rest decided); default 0.10")
    args = parser.parse_args(argv)
    result = run(args.alerts, max(args.posts, args.alerts), args.requests, os.environ.get("PATROL_BENCH_DATABASE_URL"),
                 args.active)
    print(f"console pages: {result['alerts']:,} alerts ({result['active']:.0%} active), {result['posts']:,} posts "
          f"(filled in {result['fill_seconds']:.0f} s), {args.requests} requests per page, loopback")
    print(f"timing: {result['wall_seconds']:.1f} s wall, {result['cpu_seconds']:.1f} s CPU (client and server); "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"{'page':<22}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  goal p95 < {GOAL_P95_MS:.0f} ms  shown")
    ok = True
    for name, f in result["pages"].items():
        if name.startswith("baseline"):
            print(f"{name:<22}{f['p50']:>9.1f}{f['p95']:>9.1f}{f['max']:>9.1f}  (no store read)")
            continue
        met = f["p95"] < GOAL_P95_MS
        ok &= met
        print(f"{name:<22}{f['p50']:>9.1f}{f['p95']:>9.1f}{f['max']:>9.1f}  {'met' if met else 'MISSED':<6}  {f['shown']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
