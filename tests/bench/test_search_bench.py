"""The search benchmark's smoke run: 50,000 posts end to end through both embedded indexes and the
LIKE baseline, as `make bench` runs it at a million.

Not a timing test (a shared 2-core machine says little about latency at this size): it keeps the
bench from rotting and checks what its figures stand on: both indexes answer every bench query
with the same totals (capped alike past 10,000), and the index beats an unindexed scan.
"""
from __future__ import annotations

from bench import search_bench


def test_smoke_run_at_50k_reports_both_indexes_the_baseline_and_the_goals():
    figures = search_bench.run(50_000, repeats=3, baseline_repeats=1)
    assert figures["n_posts"] == 50_000
    mine = figures["search_tantivy_with_facets_and_highlights"]
    fts5 = figures["search_sqlite_with_facets_and_highlights"]
    assert set(mine) == set(search_bench.queries(search_bench.synthetic_posts(10)))
    assert {k: v["hits"] for k, v in mine.items()} == {k: v["hits"] for k, v in fts5.items()}
    assert mine["sub-word that tiles (天气 in 今天天气)"]["hits"] == "10,000+"  # past the cap, shown as such
    like = figures["baseline_like_scan"]
    assert "common word" in like and like["common word"]["hits"] >= int(mine["common word"]["hits"].replace(",", ""))
    assert mine["common word"]["p50_ms_cpu"] < like["common word"]["p50_ms_cpu"]
    for name in ("insert_tantivy_bulk_end_to_end", "insert_tantivy_commit_per_batch_first_20k",
                 "insert_sqlite_end_to_end", "segmentation_only", "insert_tantivy_bulk_one_process_first_50000"):
        assert figures[name]["per_s_cpu"] > 0 and figures[name]["per_s_wall"] > 0
    assert figures["insert_tantivy_bulk_end_to_end"]["us_each_cpu_workers"] > 0  # the workers' CPU is counted
    assert len(figures["goals"]) == 4 and all(isinstance(g["met"], bool) for g in figures["goals"].values())
