"""The server-side deadline check: the API process looks every few seconds for life-risk alerts
whose deadline passed (patrol.deadlines) and has the store tell the supervisors on shift.

It runs in a thread beside the app, not in a browser, so an alert nobody has open still reaches
a supervisor; several API processes may all run it (the store notices each breach once).
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from patrol import deadlines
from patrol.store import StoreError

log = logging.getLogger("patrol.api.deadlines")


def check_once(store, now: datetime | None = None) -> list:
    return deadlines.check(store, now or datetime.now(timezone.utc))


def start(app, every_seconds: float) -> threading.Event:
    """Run check_once every `every_seconds` until the returned event is set (app shutdown)."""
    stopping = threading.Event()

    def loop():
        while not stopping.wait(every_seconds):
            try:
                for breach in check_once(app.state.services.store):
                    log.warning("deadline passed on alert %s (%s): told %s", breach.alert_id, breach.category,
                                ", ".join(breach.notified) or "nobody (no active supervisor)")
            except StoreError as exc:
                log.warning("deadline check skipped: %s", exc)
            except Exception:  # the watch must outlive one bad pass; the next one retries
                log.exception("deadline check failed")

    threading.Thread(target=loop, name="patrol-deadline-watch", daemon=True).start()
    return stopping
