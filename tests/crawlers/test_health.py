"""Source health: passes recorded per source, and an ops alert after N silent or failing passes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crawlers.health import errors_by_kind, pass_failed, record_pass, record_report
from crawlers.report import CrawlReport, SourceReport
from patrol.alerts import OPS_SOURCE_HEALTH
from patrol.store import AlertFilter, Store

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'wf.db'}")
    yield s
    s.close()


def good(name="city-blog", items=12):
    return SourceReport(name=name, kind="html", pages_fetched=14, items=items, finish_reason="finished")


def down(name="city-blog"):
    return SourceReport(name=name, kind="html", pages_fetched=0, http_errors=3, finish_reason="finished")


def ops_alerts(store):
    return store.list_alerts(AlertFilter(category=OPS_SOURCE_HEALTH)).items


def test_a_pass_records_items_errors_and_last_success(store):
    entry = SourceReport(name="city-blog", kind="html", pages_fetched=9, items=7, parse_errors=2, finish_reason="finished")
    verdict = record_pass(store, entry, T0, alert_after=3)
    (health,) = store.source_health()
    assert (health.items_last_pass, health.errors_last_pass, health.last_success_at) == (7, {"parse": 2}, T0)
    assert not verdict.failed and verdict.alert_reason is None


def test_fine_grained_errors_win_over_the_coarse_counters():
    entry = SourceReport(name="s", kind="html", http_errors=3, finish_reason="finished")
    entry.errors = {"http_5xx": 2, "timeout": 1, "charset": 0}
    assert errors_by_kind(entry) == {"http_5xx": 2, "timeout": 1}


def test_a_source_that_could_not_run_or_fetched_nothing_failed():
    assert pass_failed(SourceReport(name="s", kind="x", error="no spider for kind 'x' yet"))
    assert pass_failed(down())
    assert pass_failed(SourceReport(name="s", kind="html", pages_fetched=5, finish_reason="shutdown"))
    assert not pass_failed(good(items=0))


def test_three_failing_passes_raise_one_ops_alert_naming_the_errors(store):
    verdicts = [record_pass(store, down(), T0 + timedelta(minutes=15 * i), alert_after=3) for i in range(5)]
    assert [v.consecutive_failed for v in verdicts] == [1, 2, 3, 4, 5]
    assert [v.alert_opened for v in verdicts] == [False, False, True, False, False]  # one active alert, not five
    (alert,) = ops_alerts(store)
    assert alert.source == "city-blog" and "3 failed crawl passes in a row" in alert.text and "http 3" in alert.text


def test_a_source_gone_silent_raises_an_alert_and_a_good_pass_resets_the_counts(store):
    record_pass(store, good(), T0, alert_after=2)
    first = record_pass(store, good(items=0), T0 + timedelta(minutes=15), alert_after=2)
    second = record_pass(store, good(items=0), T0 + timedelta(minutes=30), alert_after=2)
    assert (first.alert_opened, second.alert_opened) == (False, True)
    assert "2 crawl passes in a row found no posts" in ops_alerts(store)[0].text
    back = record_pass(store, good(), T0 + timedelta(minutes=45), alert_after=2)
    assert (back.consecutive_empty, back.consecutive_failed) == (0, 0)


def test_a_report_is_recorded_for_every_source(store):
    report = CrawlReport(sources={"a": good("a"), "b": down("b")})
    verdicts = record_report(store, report, T0, alert_after=3)
    assert [(v.source, v.failed) for v in verdicts] == [("a", False), ("b", True)]
    assert [h.source for h in store.source_health()] == ["a", "b"]
