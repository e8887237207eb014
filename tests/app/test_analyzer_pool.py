"""`patrol ingest --workers N`: analysis split across forked processes gives the same analyses, in
the same order, and the same stored posts and alerts as one process."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from app.analyzer_pool import AnalyzerPool
from app.cli import app

TEXTS = ["菠菜平台加拿大28，上分下分秒到账，回水高，加薇信 bc8888 带你飞", "今天天气不错，去公园散步了。",
         "网上刷单兼职，日赚三百，先交押金", "出冰，同城面交，加薇", "周末一起去看电影吧"]


@pytest.fixture(scope="module")
def analyzer():
    from nlp.analyzer import Analyzer

    return Analyzer.default()


def test_a_pooled_batch_equals_the_batch_in_one_process_in_order(analyzer):
    texts = [f"{TEXTS[i % len(TEXTS)]} #{i}" for i in range(200)]
    pool = AnalyzerPool(analyzer, 2)
    try:
        assert pool.parallel
        assert pool.analyse_batch(texts) == analyzer.analyse_batch(texts)
        assert pool.model_version == analyzer.model_version
    finally:
        pool.close()


def test_a_small_batch_is_analysed_in_the_calling_process(analyzer):
    pool = AnalyzerPool(analyzer, 2)
    try:
        pool._pool.shutdown()  # a small batch must not need the workers at all
        assert pool.analyse_batch(TEXTS) == analyzer.analyse_batch(TEXTS)
    finally:
        pool._pool = None


def test_ingest_with_two_workers_stores_what_one_process_stores(tmp_path, monkeypatch):
    posts = tmp_path / "posts.jsonl"
    posts.write_text("".join(json.dumps({"source": "other", "url": f"http://127.0.0.1/p/{i}",
                                         "text": f"{TEXTS[i % len(TEXTS)]} {i}"}, ensure_ascii=False) + "\n"
                             for i in range(300)), encoding="utf-8")
    stored = {}
    for workers in ("1", "2"):
        home = tmp_path / f"home{workers}"
        monkeypatch.setenv("PATROL_HOME", str(home))
        assert CliRunner().invoke(app, ["init"]).exit_code == 0
        result = CliRunner().invoke(app, ["ingest", str(posts), "--workers", workers], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        from patrol.store import Store

        store = Store(f"sqlite:///{home / 'patrol.db'}")
        stored[workers] = ({p.id: p.analysis for p in store.iter_posts()},
                           sorted((a.post_id, a.category) for a in store.list_alerts().items if a.post_id))  # not bursts' ops alerts
        store.close()
    assert len(stored["1"][0]) == 300 and stored["1"][1]
    assert stored["1"] == stored["2"]
