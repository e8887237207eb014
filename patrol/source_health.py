"""Source health: whether a source has been silent or failing long enough to tell the officers.

Collection gaps are what a duty officer most needs to know about: a forum that changed its
template yields nothing, silently, unless someone counts. Each pass is summarised as a
`PassSummary` (the crawlers make one from their SourceReport); the store counts consecutive empty
and consecutive failed passes, each in one atomic update (`Store.record_source_pass`), because a
pass can fail and still yield a few items (one list page of twenty answered). `alert_reason`
decides, purely, on those counts; either reaching `alert_after` opens one ops alert, and the store
keeps at most one active per source, so a source that stays down does not flood the queue.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from patrol.store.records import SourceHealth


@dataclass(frozen=True)
class PassSummary:
    """One source's pass, as health needs it: items collected, errors by kind, and whether it
    failed (could not run, did not finish, or fetched nothing)."""

    source: str
    items: int
    errors: dict[str, int]
    failed: bool


@dataclass(frozen=True)
class HealthVerdict:
    source: str
    items: int
    errors: dict[str, int]
    failed: bool
    consecutive_empty: int
    consecutive_failed: int
    alert_reason: str | None
    alert_opened: bool


def alert_reason(health: SourceHealth, errors: dict[str, int], alert_after: int) -> str | None:
    """The ops alert's text when the counts after this pass call for one, else None (pure).
    `alert_after` 0 or less turns the alerts off."""
    if alert_after <= 0:
        return None
    failed = health.consecutive_failed if health.consecutive_failed >= alert_after else 0
    if not failed and health.consecutive_empty < alert_after:
        return None
    since = (f"last post collected {health.last_success_at:%Y-%m-%d %H:%M %Z}" if health.last_success_at
             else "no post collected yet")
    if failed:
        detail = ", ".join(f"{kind} {n}" for kind, n in sorted(errors.items())) or "nothing fetched"
        return f"{health.source}: {failed} failed crawl passes in a row ({detail}); {since}. Posts may be missed."
    return (f"{health.source}: {health.consecutive_empty} crawl passes in a row found no posts; {since}. "
            "Check the site and its selectors.")


def record_pass(store, summary: PassSummary, now: datetime, alert_after: int) -> HealthVerdict:
    """Record one source's pass and open an ops alert when it has been silent or failing too long."""
    health = store.record_source_pass(summary.source, now, summary.items, summary.errors, failed=summary.failed)
    reason = alert_reason(health, summary.errors, alert_after)
    opened = bool(reason) and store.open_source_health_alert(summary.source, reason, now) is not None
    return HealthVerdict(summary.source, summary.items, summary.errors, summary.failed, health.consecutive_empty,
                         health.consecutive_failed, reason, opened)
