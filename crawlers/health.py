"""Source health: after every pass, per source, what it yielded and what went wrong; and an
operations alert in the officers' queue when a source stays silent or keeps failing.

Collection gaps are what a duty officer most needs to know about: a forum that changed its
template yields nothing, silently, unless someone counts. The store keeps last pass, last success,
items, errors by kind and consecutive empty passes (`record_source_pass`); consecutive *failed*
passes are kept here in the store's crawl state, because a pass can fail and still yield a few
items (one list page of twenty answered). Either count reaching `settings.crawl.health_alert_after`
opens one ops alert; the store keeps at most one active per source, so a source that stays down
does not flood the queue.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

HEALTH_KEY = "health"
# SourceReport counters that are failures, by the error kind they are recorded under.
_REPORT_COUNTERS = (("parse_errors", "parse"), ("http_errors", "http"), ("skipped_requests", "skipped"))


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


def errors_by_kind(entry: Any) -> dict[str, int]:
    """Errors of one source's pass, by kind: fine-grained ones when the report carries them
    (`entry.errors`, from stats patrol/errors/<kind>/<source>), else the report's counters."""
    errors: dict[str, int] = {str(k): int(v) for k, v in (getattr(entry, "errors", None) or {}).items() if v}
    for attribute, kind in _REPORT_COUNTERS:
        value = int(getattr(entry, attribute, 0) or 0)
        if value and not errors:
            errors[kind] = value
    if getattr(entry, "error", None):
        errors["crawl"] = errors.get("crawl", 0) + 1
    return errors


def pass_failed(entry: Any) -> bool:
    """A pass fails when the source could not be crawled, the crawl did not finish, or nothing at all
    was fetched; a finished pass with some broken pages is degraded, not failed."""
    if getattr(entry, "error", None):
        return True
    if getattr(entry, "finish_reason", "finished") not in ("finished", ""):
        return True
    return int(getattr(entry, "pages_fetched", 0) or 0) == 0


def _reason(name: str, empty: int, failed: int, errors: dict[str, int], last_success: datetime | None) -> str:
    since = f"last post collected {last_success:%Y-%m-%d %H:%M %Z}" if last_success else "no post collected yet"
    if failed:
        detail = ", ".join(f"{kind} {n}" for kind, n in sorted(errors.items())) or "nothing fetched"
        return f"{name}: {failed} failed crawl passes in a row ({detail}); {since}. Posts may be missed."
    return f"{name}: {empty} crawl passes in a row found no posts; {since}. Check the site and its selectors."


def record_pass(store, entry: Any, now: datetime, alert_after: int) -> HealthVerdict:
    """Record one source's pass and open an ops alert when it has been silent or failing too long."""
    name = entry.name
    errors = errors_by_kind(entry)
    failed = pass_failed(entry)
    items = int(getattr(entry, "items", 0) or 0)
    health = store.record_source_pass(name, now, items, errors)
    state = store.get_crawl_state(name, HEALTH_KEY) or {}
    consecutive_failed = int(state.get("consecutive_failed", 0)) + 1 if failed else 0
    store.set_crawl_state(name, HEALTH_KEY, {**state, "consecutive_failed": consecutive_failed}, now)
    reason = None
    if alert_after > 0 and (consecutive_failed >= alert_after or health.consecutive_empty >= alert_after):
        reason = _reason(name, health.consecutive_empty, consecutive_failed if consecutive_failed >= alert_after else 0,
                         errors, health.last_success_at)
    opened = bool(reason) and store.open_source_health_alert(name, reason, now) is not None
    return HealthVerdict(name, items, errors, failed, health.consecutive_empty, consecutive_failed, reason, opened)


def record_report(store, report, now: datetime, alert_after: int) -> list[HealthVerdict]:
    """Every source of a CrawlReport, in report order."""
    return [record_pass(store, entry, now, alert_after) for entry in report.sources.values()]


def silent_sources(verdicts: Iterable[HealthVerdict]) -> list[str]:
    return [v.source for v in verdicts if v.alert_reason]
