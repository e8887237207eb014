"""`patrol serve`'s schedule: checkpoints and retention run in the background on real stores."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from app.bootstrap import build_services
from app.schedule import jobs_for, scheduled
from patrol.posts import RawPost
from patrol.settings import AuditSettings, RetentionSettings, Settings
from patrol.store import PostRecord


def wait_for(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_serve_jobs_write_checkpoints_and_purge_on_their_intervals(tmp_path):
    settings = Settings(home=tmp_path, database_url=None, elasticsearch_url=None,
                        audit=AuditSettings(checkpoint_minutes=0.005),  # every 0.3 s
                        retention=RetentionSettings(posts_without_alert_days=30, interval_hours=0.0001))
    services = build_services(settings)
    old = datetime.now(timezone.utc) - timedelta(days=60)
    raw = RawPost(source="forum", url="https://x.example/1", external_id="1", text="今天天气很好",
                  fetched_at=old, published_at=old, content_sha256="ab" * 32)
    services.store.save_batch([PostRecord.from_raw(raw)], [], old)
    first = len(services.checkpoints.read())  # the one written when the store was first opened
    with scheduled(jobs_for(services)):
        assert wait_for(lambda: len(services.checkpoints.read()) >= first + 2)
        assert wait_for(lambda: services.store.audit_events(action="retention.purged"))
    assert services.store.get_post(raw.id) is None
    assert services.store.audit_events(action="retention.purged")[0].payload["posts"] == 1
    # The checkpoints taken meanwhile cover the retention events: the chain verifies against the last.
    from patrol.audit_anchor import verify

    assert verify(services.store, services.checkpoints).ok
    services.close()


def test_a_failing_job_is_retried_and_does_not_stop_the_others(tmp_path):
    runs = {"bad": 0, "good": 0}

    def bad():
        runs["bad"] += 1
        raise RuntimeError("disk full")

    def good():
        runs["good"] += 1

    with scheduled([("bad", 0.05, bad), ("good", 0.05, good)]):
        assert wait_for(lambda: runs["bad"] >= 3 and runs["good"] >= 3)
