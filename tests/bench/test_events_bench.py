"""The event benchmark at a small size: it runs end to end, prints the weighted clustering's
figures beside the baselines' (the unweighted MinHash method it replaced, exhaustive TF-IDF), and
finds the incidents better than chance."""
from __future__ import annotations

from bench.events_bench import main


def test_the_events_bench_runs_at_a_small_size_with_its_baselines(capsys):
    result = main(["--posts", "1500", "--sample", "500", "--preload", "500", "--batch", "500", "--batches", "1"])
    out = capsys.readouterr().out
    assert '"baseline_exhaustive_tfidf"' in out and '"baseline_unweighted_minhash"' in out
    weighted = result["incremental_weighted"]
    assert weighted["posts_per_s"] > 0 and weighted["pair_f1"] > 0.5
    assert 0 < weighted["pair_precision"] <= 1 and 0 < weighted["pair_recall"] <= 1
    assert result["baseline_unweighted_minhash"]["pair_f1"] > 0
    assert result["sample"]["baseline_exhaustive_tfidf"]["extrapolated_seconds_at_posts"] > 0
    assert len(result["ingest"]["batch_seconds"]) == 1
