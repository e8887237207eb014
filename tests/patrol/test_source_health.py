"""The source-health decision is a pure function of the counts after a pass."""
from datetime import datetime, timezone

from patrol.source_health import alert_reason
from patrol.store import SourceHealth

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)


def health(empty=0, failed=0, last_success=T0):
    return SourceHealth("city-blog", T0, last_success, 0, {}, empty, 5, failed)


def test_counts_below_the_threshold_raise_nothing():
    assert alert_reason(health(empty=2, failed=2), {}, alert_after=3) is None


def test_failing_passes_name_their_errors_before_silence():
    reason = alert_reason(health(empty=3, failed=3), {"http": 3, "timeout": 1}, alert_after=3)
    assert reason.startswith("city-blog: 3 failed crawl passes in a row (http 3, timeout 1)")


def test_a_silent_source_says_when_it_last_yielded():
    reason = alert_reason(health(empty=4, failed=1), {}, alert_after=3)
    assert "4 crawl passes in a row found no posts; last post collected 2026-11-21 08:00 UTC" in reason
    assert "no post collected yet" in alert_reason(health(empty=3, last_success=None), {}, alert_after=3)


def test_a_threshold_of_zero_turns_the_alerts_off():
    assert alert_reason(health(empty=99, failed=99), {}, alert_after=0) is None
