"""The ingest bench runs end to end on a small input and reports a rate per window.

Not a timing test (a few hundred posts on a shared machine say nothing about speed); it keeps the
bench from rotting and checks that what it counts is what went through the product."""
from __future__ import annotations

from bench import ingest_bench


def test_a_small_run_ingests_every_post_and_reports_each_window():
    figures = ingest_bench.run(700, window=256)
    assert figures["n_posts"] == 700 and figures["bad_lines"] == 0
    assert figures["ingested"] == 700 and figures["indexed"] == 700
    assert 0 < figures["alerts_opened"] < 700   # about one post in six carries risk vocabulary
    assert [w["posts"] for w in figures["windows"]] == [256, 512, 700]
    assert all(w["per_s"] > 0 and w["per_cpu_s"] > 0 and w["store_mb"] > 0 for w in figures["windows"])
    assert figures["per_s_overall"] > 0
