"""Source health from the crawlers' side: a SourceReport, summarised as the core's PassSummary
(items, errors by kind, failed or not). Counting passes and deciding on an ops alert is the
core's (patrol/source_health.py); `record_pass` and `record_report` hand it the summaries.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from patrol import source_health
from patrol.source_health import HealthVerdict, PassSummary

__all__ = ["HealthVerdict", "errors_by_kind", "pass_failed", "summarise", "record_pass", "record_report",
           "silent_sources"]

# SourceReport counters that are failures, by the error kind they are recorded under.
_REPORT_COUNTERS = (("parse_errors", "parse"), ("http_errors", "http"), ("skipped_requests", "skipped"))


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


def summarise(entry: Any) -> PassSummary:
    """One source's SourceReport as the core's PassSummary."""
    return PassSummary(entry.name, int(getattr(entry, "items", 0) or 0), errors_by_kind(entry), pass_failed(entry))


def record_pass(store, entry: Any, now: datetime, alert_after: int) -> HealthVerdict:
    """Record one source's pass and open an ops alert when it has been silent or failing too long."""
    return source_health.record_pass(store, summarise(entry), now, alert_after)


def record_report(store, report, now: datetime, alert_after: int) -> list[HealthVerdict]:
    """Every source of a CrawlReport, in report order."""
    return [record_pass(store, entry, now, alert_after) for entry in report.sources.values()]


def silent_sources(verdicts: Iterable[HealthVerdict]) -> list[str]:
    return [v.source for v in verdicts if v.alert_reason]
