"""The console page benchmark at a smoke size: every page answers, shows what it should, and the
figures come out. The goal (p95 < 200 ms at 100,000 alerts and 1,000,000 posts) is measured by
`python -m bench.console_pages_bench`, not here: a shared test machine's timings prove nothing."""
from __future__ import annotations

from bench.console_pages_bench import run


def test_the_console_page_bench_runs_at_a_smoke_size():
    result = run(n_alerts=600, n_posts=2000, requests=5, active=0.5)
    pages = result["pages"]
    assert set(pages) == {"baseline_login_page", "queue", "queue_label_newest", "queue_page_2",
                          "queue_rows_fragment", "alert_detail"}
    assert pages["baseline_login_page"]["shown"] == 1  # the login form: the baseline is a real page
    assert result["cpu_seconds"] > 0 and result["wall_seconds"] > 0
    # A full first and second page of 50 rows, a label filter that finds rows, one alert per detail page.
    assert pages["queue"]["shown"] == pages["queue_page_2"]["shown"] == pages["queue_rows_fragment"]["shown"] == 50
    assert pages["queue_label_newest"]["shown"] > 0 and pages["alert_detail"]["shown"] == 1
    for f in pages.values():
        assert 0 < f["p50"] <= f["p95"] <= f["max"]
