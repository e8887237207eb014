"""`patrol crawl --loop`: each source on its own interval, health recorded, failures survived."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

import nlp

from crawlers.loop import run_loop
from crawlers.report import CrawlReport, SourceReport
from crawlers.runner import CrawlError
from crawlers.sources import parse_sources
from nlp.analyzer import Analyzer
from nlp.lexicon import Lexicon
from patrol.settings import CrawlSettings, Settings
from patrol.store import Store


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t

    def sleep(self, seconds):
        self.t += seconds


class Services:
    def __init__(self, store, analyzer):
        self.store = store
        self.analyzer = analyzer
        self.ingestor = self

    def ingest(self, batch):
        return len(batch)


@pytest.fixture
def lexicon_dir(tmp_path):
    copy = tmp_path / "lexicons"
    shutil.copytree(Path(nlp.__file__).parent / "data" / "lexicons", copy)
    return copy


@pytest.fixture
def services(tmp_path, lexicon_dir):
    store = Store(f"sqlite:///{tmp_path / 'wf.db'}")
    yield Services(store, Analyzer(Lexicon.load(lexicon_dir)))
    store.close()


SOURCES = parse_sources({"sources": [
    {"name": "fast", "kind": "rss", "url": "http://127.0.0.1:9/feed", "interval": "10s"},
    {"name": "slow", "kind": "rss", "url": "http://127.0.0.1:9/feed2", "interval": "30s"},
]})


def test_each_source_is_revisited_on_its_own_interval(tmp_path, services):
    clock, rounds = FakeClock(), []

    def crawl(settings, sources, ingest):
        rounds.append((clock.t - 1000.0, [s.name for s in sources]))
        clock.t += 2.0  # a pass takes time; the schedule does not drift by it
        return CrawlReport(sources={s.name: SourceReport(s.name, s.kind, pages_fetched=1, items=1, finish_reason="finished")
                                    for s in sources})

    run_loop(Settings(home=tmp_path), SOURCES, services, crawl=crawl, clock=clock, sleep=clock.sleep,
             echo=lambda line: None, max_rounds=5)
    assert rounds == [(0.0, ["fast", "slow"]), (10.0, ["fast"]), (20.0, ["fast"]),
                      (30.0, ["fast", "slow"]), (40.0, ["fast"])]
    assert {h.source: h.passes for h in services.store.source_health()} == {"fast": 5, "slow": 2}


def test_a_dead_crawl_process_is_a_failed_pass_and_the_loop_goes_on(tmp_path, services):
    clock, lines = FakeClock(), []

    def crawl(settings, sources, ingest):
        raise CrawlError("the crawl process exited with code -9 without a report")

    settings = Settings(home=tmp_path, crawl=CrawlSettings(health_alert_after=2))
    rounds = run_loop(settings, SOURCES, services, source_names=["fast"], crawl=crawl, clock=clock,
                      sleep=clock.sleep, echo=lines.append, max_rounds=3,
                      now=lambda: datetime(2026, 11, 21, 8, int(clock.t) % 60, tzinfo=timezone.utc))
    assert rounds == 3
    assert all("error: the crawl process exited" in line for line in lines)
    assert "operations alert opened" in lines[1]
    assert {h.source: h.consecutive_failed for h in services.store.source_health()} == {"fast": 3}


def test_lexicon_edits_go_live_before_the_next_pass_and_broken_ones_are_reported(tmp_path, services, lexicon_dir):
    clock, lines, versions = FakeClock(), [], []

    def crawl(settings, sources, ingest):
        versions.append(services.analyzer.model_version)
        if len(versions) == 1:
            with (lexicon_dir / "drugs.txt").open("a", encoding="utf-8") as fh:
                fh.write("\n蓝精灵糖豆\n")
        elif len(versions) == 2:
            with (lexicon_dir / "drugs.txt").open("a", encoding="utf-8") as fh:
                fh.write("\n坏行\tnot-a-weight\n")
        clock.t += 1.0  # distinct modification times between edits are not needed: sizes differ
        return CrawlReport(sources={s.name: SourceReport(s.name, s.kind, pages_fetched=1, items=1, finish_reason="finished")
                                    for s in sources})

    run_loop(Settings(home=tmp_path), SOURCES, services, source_names=["fast"], crawl=crawl, clock=clock,
             sleep=clock.sleep, echo=lines.append, max_rounds=3)
    assert versions[0] != versions[1] == versions[2]
    assert any(line.startswith("lexicons reloaded") for line in lines)
    assert any("NOT reloaded" in line and "drugs.txt" in line for line in lines)


def test_a_workflow_database_that_is_down_fails_the_pass_not_the_loop(tmp_path, services, monkeypatch):
    from patrol.store import StoreUnavailable

    clock, lines, rounds_seen = FakeClock(), [], []
    down = StoreUnavailable("the workflow database sqlite:///wf.db is unavailable: database is locked")

    def crawl(settings, sources, ingest):
        rounds_seen.append(clock.t)
        clock.t += 1.0
        if len(rounds_seen) == 1:
            raise down  # what the ingest step raises mid-pass when the store refuses a batch
        return CrawlReport(sources={s.name: SourceReport(s.name, s.kind, pages_fetched=1, items=1, finish_reason="finished")
                                    for s in sources})

    real_record = services.store.record_source_pass

    def record_while_down(*args, **kw):
        if len(rounds_seen) == 1:
            raise down
        return real_record(*args, **kw)

    monkeypatch.setattr(services.store, "record_source_pass", record_while_down)
    rounds = run_loop(Settings(home=tmp_path), SOURCES, services, source_names=["fast"], crawl=crawl, clock=clock,
                      sleep=clock.sleep, echo=lines.append, max_rounds=2)
    assert rounds == 2
    assert "database is locked" in lines[0]
    assert lines[1].startswith("fast") and "ok" in lines[1]
    assert [h.passes for h in services.store.source_health()] == [1]
