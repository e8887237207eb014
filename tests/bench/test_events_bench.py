"""The event benchmark at a small size: it runs end to end, prints its figures beside the
baseline's, and the incremental clustering finds the incidents better than chance."""
from __future__ import annotations

from bench.events_bench import main


def test_the_events_bench_runs_at_a_small_size_with_its_baseline(capsys):
    result = main(["--posts", "1500", "--sample", "500", "--preload", "500", "--batch", "500", "--batches", "1"])
    assert '"baseline_exhaustive_tfidf"' in capsys.readouterr().out
    assert result["incremental"]["posts_per_s"] > 0 and result["incremental"]["pair_f1"] > 0.5
    assert result["sample"]["baseline_exhaustive_tfidf"]["extrapolated_seconds_at_posts"] > 0
    assert len(result["ingest"]["batch_seconds"]) == 1
