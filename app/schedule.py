"""The periodic jobs of `patrol serve`: a signed checkpoint of the audit chain every
PATROL_AUDIT__CHECKPOINT_MINUTES, the retention steps every PATROL_RETENTION__INTERVAL_HOURS.

One daemon thread runs them, each once at start (a server restarted daily must still purge) and
then on its interval. A job that fails is logged and tried again at its next turn: it never takes
the server down, and a checkpoint refused because the chain does not verify is logged as an error.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable, Iterator

log = logging.getLogger("patrol.schedule")


def checkpoint_job(services) -> None:
    from patrol.audit_anchor import take_checkpoint

    cp = take_checkpoint(services.store, services.checkpoints)
    log.info("audit checkpoint: seq %d, head %s", cp.seq, cp.hash)


def retention_job(services) -> None:
    from app.bootstrap import IndexOnUse
    from patrol.retention import run_retention

    for result in run_retention(services.store, IndexOnUse(services), services.settings.retention,
                                datetime.now(timezone.utc)):
        log.info("retention %s: %s", result.name, result.counts)


def jobs_for(services) -> list[tuple[str, float, Callable[[], None]]]:
    """(name, interval in seconds, run) for every job whose interval is not 0."""
    audit, retention = services.settings.audit, services.settings.retention
    jobs = []
    if audit.checkpoint_minutes:
        jobs.append(("audit checkpoint", audit.checkpoint_minutes * 60, lambda: checkpoint_job(services)))
    if retention.interval_hours:
        jobs.append(("retention", retention.interval_hours * 3600, lambda: retention_job(services)))
    return jobs


@contextmanager
def scheduled(jobs: list[tuple[str, float, Callable[[], None]]]) -> Iterator[threading.Thread | None]:
    """Run `jobs` in a background thread while the block runs (the server)."""
    if not jobs:
        yield None
        return
    stop = threading.Event()
    due = {name: 0.0 for name, _, _ in jobs}

    def loop() -> None:
        while not stop.is_set():
            now = time.monotonic()
            for name, interval, run in jobs:
                if now >= due[name]:
                    try:
                        run()
                    except Exception:  # logged and retried next turn: a job never stops the server
                        log.exception("%s failed; trying again in %.0f s", name, interval)
                    due[name] = time.monotonic() + interval
            stop.wait(max(0.01, min(due.values()) - time.monotonic()))

    thread = threading.Thread(target=loop, name="patrol-schedule", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=30)
