"""Two real `patrol crawl` processes on one site through a real redis-server: every post stored
exactly once, every page fetched once, and both processes did part of the work."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
import yaml

from crawlers.distributed import KEY_PREFIX, pass_window, redis_scrapy_settings, source_keys
from patrol.settings import Settings
from patrol.store import Store
from tests.crawlers.fixtures.loopback import LoopbackSite
from tests.crawlers.fixtures.sitegen import SELECTORS, generated_site

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("PATROL_TEST_REDIS_URL")
N_POSTS = 300

if not REDIS_URL:
    if os.environ.get("CI") == "true":
        pytest.fail("PATROL_TEST_REDIS_URL is not set under CI: run the suite through `make test`, "
                    "which starts redis-server (scripts/services.sh)", pytrace=False)
    pytest.skip("PATROL_TEST_REDIS_URL is not set: start redis-server with `bash scripts/services.sh start`",
                allow_module_level=True)

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    yield client
    for key in client.scan_iter(f"{KEY_PREFIX}:test-*"):
        client.delete(key)


def test_redis_settings_are_added_only_when_a_redis_url_is_configured():
    assert redis_scrapy_settings(Settings(redis_url=None)) == {}
    wired = redis_scrapy_settings(Settings(redis_url="redis://127.0.0.1:6399/0"), {"EXTENSIONS": {"x.Y": 1}})
    assert wired["SCHEDULER"] == "crawlers.distributed.SourceScheduler" and wired["SCHEDULER_PERSIST"] is True
    assert wired["EXTENSIONS"] == {"x.Y": 1}


def test_keys_are_per_source_and_per_pass_window():
    assert pass_window(900, now=1800.0) == pass_window(900, now=2699.0) == 2
    assert source_keys("city-forum", 2)["requests"] == "patrol:crawl:city-forum:2:requests"


def worker(tmp_path: Path, name: str, sources: Path, database_url: str) -> subprocess.Popen:
    env = dict(os.environ)
    env.update({
        "PATROL_HOME": str(tmp_path / f"home-{name}"),
        "PATROL_DATABASE_URL": database_url,
        # Hosts sharing one database share its audit key (docs/AUDIT.md): each home would make its own.
        "PATROL_AUDIT__KEY": "shared-audit-key-of-the-test-deployment",
        "PATROL_REDIS_URL": REDIS_URL,
        "PATROL_SOURCES": str(sources),
        "PATROL_CRAWL__USER_AGENT": f"PatrolTest-{name} (+ops@example.cn)",
        "PATROL_CRAWL__AUTOTHROTTLE": "false",
        "PATROL_CRAWL__CONCURRENT_PER_DOMAIN": "4",
        "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]),
    })
    env.pop("PATROL_ELASTICSEARCH_URL", None)
    return subprocess.Popen([sys.executable, "-m", "app.cli", "crawl"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_crawl_processes_share_one_queue_and_store_every_post_exactly_once(tmp_path, redis_client):
    # Slow enough replies that one process cannot finish before the other has started.
    site = LoopbackSite(fallback=generated_site(N_POSTS), delay=0.08)
    name = f"test-{uuid.uuid4().hex[:8]}"
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [{
        "name": name, "kind": "html", "url": f"{site.base_url}/list/1.html", "interval": "1h",
        "max_pages": 100, "selectors": SELECTORS}]}), encoding="utf-8")
    database_url = f"sqlite:///{tmp_path / 'workflow.db'}"
    Store(database_url).close()  # migrate once, before two processes race to do it
    try:
        workers = [worker(tmp_path, label, sources, database_url) for label in ("A", "B")]
        outputs = [w.communicate(timeout=240)[0] for w in workers]
    finally:
        site.stop()
    for w, out in zip(workers, outputs):
        assert w.returncode == 0, out

    details = [h for h in site.hits if h.path.startswith("/post/")]
    fetched = Counter(h.path for h in details)
    assert len(fetched) == N_POSTS and set(fetched.values()) == {1}, "a page was fetched by both workers"
    by_worker = Counter(h.user_agent.split(" ")[0] for h in details)
    assert by_worker["PatrolTest-A"] > 0 and by_worker["PatrolTest-B"] > 0, (by_worker, outputs)

    with sqlite3.connect(tmp_path / "workflow.db") as db:
        assert db.execute("SELECT count(*) FROM posts WHERE source = ?", (name,)).fetchone()[0] == N_POSTS
        assert db.execute("SELECT count(DISTINCT external_id) FROM posts WHERE source = ?", (name,)).fetchone()[0] == N_POSTS
        repeated = db.execute("SELECT post_id FROM alerts WHERE post_id IS NOT NULL GROUP BY post_id HAVING count(*) > 1").fetchall()
        assert repeated == []
