"""The classify benchmark runs end to end on a small input and reports what it claims to measure.

Not a timing test (figures on a shared 2-core machine say nothing at this size): it keeps the
bench from rotting, and holds the measuring design that keeps its figures honest: the timed
rounds run without the memory sampler, and memory comes from a run of its own.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bench import classify_bench

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "labelled_posts.jsonl"


def test_small_run_reports_rates_and_memory(monkeypatch):
    if not DATA.is_file():
        pytest.skip(f"{DATA} not there")
    started: list[bool] = []
    real_start = classify_bench._MemorySampler.start

    def counted_start(self):
        started.append(True)
        real_start(self)

    monkeypatch.setattr(classify_bench._MemorySampler, "start", counted_start)
    # more than one 512-line chunk, so the command forks its workers as it does at full size
    figures = classify_bench.run(1200, DATA, rounds=1, short_n=600)
    assert figures["posts"] == 1200
    assert figures["jieba_posts_per_s"] > 0 and figures["classify_posts_per_s"] > 0
    assert len(figures["speedup_per_round"]) == 1
    # one sampled run per corpus only: the timed rounds (one-line and full input) ran unsampled
    assert started == [True, True]
    assert figures["classify_processes"] >= 2
    assert 0 < figures["classify_pss_sum_mb"] <= figures["classify_rss_sum_mb"]
    assert 0 <= figures["flagged_share"] <= 1
    # the short corpus: real posts as they are, both ratios, start-up included and not
    assert figures["short_posts"] == 600 and figures["short_mean_chars"] < 60
    assert figures["short_speedup_with_startup"] > 0 and figures["short_speedup_without_startup"] > 0
    assert figures["short_classify_pss_sum_mb"] > 0
