"""`patrol crawl --loop`: revisit each source on its own `interval`, recording source health.

Each round crawls the sources that are due, in one child pass (crawlers.runner.run_crawl), then
records every source's health (crawlers.health) and sleeps until the next source is due. A source
is next due one interval after its pass *started*, so a slow pass does not push the schedule back
by its own length. A pass whose child process dies counts as a failed pass for each of its
sources, and the loop goes on: one bad night of a site must not end the watch over the others.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Callable

from crawlers.health import HealthVerdict, record_report
from crawlers.report import CrawlReport, SourceReport
from crawlers.runner import CrawlError, run_crawl
from crawlers.sources import Source, select_sources
from patrol.settings import Settings
from patrol.store import StoreUnavailable

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def crawl_and_record(settings: Settings, sources: list[Source], services, *, source_names: list[str] | None = None,
                     crawl=run_crawl, now: Callable[[], datetime] = _utcnow) -> tuple[CrawlReport, list[HealthVerdict]]:
    """One pass over the named sources, ingested, with each source's health recorded.

    A workflow database that is locked or down fails the pass, not the process: the runner keeps
    the crawl state of a pass whose posts were not stored, so the next pass fetches them again.
    With the database down, health cannot be recorded either, and the verdicts are empty."""
    chosen = select_sources(sources, source_names)
    try:
        report = crawl(settings, chosen, services.ingestor.ingest)
    except (CrawlError, StoreUnavailable) as error:
        log.error("crawl pass failed: %s", error)
        report = CrawlReport(sources={s.name: SourceReport(name=s.name, kind=s.kind, error=str(error)) for s in chosen})
    try:
        verdicts = record_report(services.store, report, now(), settings.crawl.health_alert_after)
    except StoreUnavailable as error:
        log.error("source health not recorded: %s", error)
        verdicts = []
    return report, verdicts


def _line(report: SourceReport, verdict: HealthVerdict) -> str:
    status = f"error: {report.error}" if report.error else ("FAILED" if verdict.failed else "ok")
    errors = ", ".join(f"{k} {v}" for k, v in sorted(verdict.errors.items())) or "no errors"
    text = f"{report.name:<24} {report.pages_fetched:>5} page(s) {report.items:>6} item(s)  {errors}  {status}"
    if verdict.alert_opened:
        text += "  -> operations alert opened"
    return text


def _pick_up_lexicon_edits(services, echo: Callable[[str], None]) -> None:
    """Lexicon files edited since the last pass go live before the next one; broken ones are
    reported and the lexicons in use stay (the analyzer keeps them)."""
    try:
        if services.analyzer.reload_lexicons_if_changed():
            echo(f"lexicons reloaded: {services.analyzer.model_version}")
    except (ValueError, FileNotFoundError) as exc:  # LexiconError is a ValueError
        echo(f"lexicons NOT reloaded, the ones in use stay: {exc}")


def run_loop(settings: Settings, sources: list[Source], services, *, source_names: list[str] | None = None,
             echo: Callable[[str], None] = print, crawl=run_crawl, clock: Callable[[], float] = time.monotonic,
             sleep: Callable[[float], None] = time.sleep, now: Callable[[], datetime] = _utcnow,
             max_rounds: int | None = None) -> int:
    """Crawl until interrupted (or for `max_rounds` rounds); returns the number of rounds run."""
    chosen = select_sources(sources, source_names)
    if not chosen:
        raise ValueError("no sources to crawl")
    due = {s.name: clock() for s in chosen}
    intervals = {s.name: s.interval_delta.total_seconds() for s in chosen}
    rounds = 0
    try:
        while max_rounds is None or rounds < max_rounds:
            started = clock()
            names = [s.name for s in chosen if due[s.name] <= started]
            if names:
                _pick_up_lexicon_edits(services, echo)
                report, verdicts = crawl_and_record(settings, chosen, services, source_names=names, crawl=crawl, now=now)
                for verdict in verdicts:
                    echo(_line(report.sources[verdict.source], verdict))
                if not verdicts:  # health could not be recorded: still say what went wrong
                    for entry in report.sources.values():
                        echo(f"{entry.name:<24} error: {entry.error or 'source health not recorded'}")
                for name in names:
                    due[name] = started + intervals[name]
                rounds += 1
                continue
            wait = max(0.0, min(due.values()) - clock())
            sleep(wait)
    except KeyboardInterrupt:
        echo("patrol crawl --loop: stopped")
    return rounds
