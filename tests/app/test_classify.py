"""`patrol classify` over many lines: worker processes give the very output one process gives."""
from __future__ import annotations

import io
import json
import os

import pytest

from nlp.analysis import Analysis
from app import classify
from app.classify import WorkerDied, classify_stream, output_row

POSTS = [
    "菠菜平台加拿大28，上分下分秒到账，回水高，加薇信 bc8888 带你飞",
    "今天天气不错，去公园散步了。",
    "出售身份证110105199003071234，卡号6222021234567898，微信abc12345",
    "ＱＱ：１２３４５６７８ 賭博網站 葉子同城 dubo",
    "",
    "你这个废物，滚出去",
    "不想活了，准备好了药，明天就结束",
    "\u200b加➕我🐧号123456 约.炮",
]


def _lines(n: int) -> list[tuple[int, str]]:
    """n numbered JSONL lines: posts, with a broken line, a line without text and a hostile one now and then."""
    out = []
    for i in range(n):
        lineno = i + 1
        if i % 29 == 5:
            line = "{not json"
        elif i % 31 == 7:
            line = json.dumps({"id": i, "body": "no text"})
        elif i % 97 == 11:
            line = "[" * 100_000  # deeper than the JSON parser can go
        else:
            line = json.dumps({"id": i, "text": POSTS[i % len(POSTS)] + f" #{i}"}, ensure_ascii=False)
        out.append((lineno, line + "\n"))
    return out


@pytest.fixture(scope="module")
def analyzer():
    from nlp.analyzer import Analyzer

    # the n-gram side alone: worker processes are its path (a model running its encoder stage is
    # classified in one process, see test_a_model_with_an_encoder_stage_runs_in_one_process)
    return Analyzer.default(use_encoder=False)


def test_a_model_with_an_encoder_stage_runs_in_one_process(monkeypatch):
    class EncoderModel:
        uses_encoder = True

    class Stub:
        model = EncoderModel()

        def analyse_batch(self, texts):
            return [Analysis(primary="none", labels=(), scores={}, evidence=(), trail=(), normalised=t,
                             model_version="stub", features={}) for t in texts]

    monkeypatch.setattr(classify, "_classify_parallel", lambda *a, **k: pytest.fail("forked workers"))
    out, err, skipped = _run(_lines(300), Stub(), workers=4, chunk_lines=25)
    assert err.count("not JSON") == len([i for i in range(300) if i % 29 == 5 or i % 97 == 11]) and skipped > 0
    assert len(out.splitlines()) == 300 - skipped


def _run(lines, analyzer, **kw):
    out, err = io.StringIO(), io.StringIO()
    skipped = classify_stream(iter(lines), analyzer, out, err, name="posts.jsonl", **kw)
    return out.getvalue(), err.getvalue(), skipped


def test_workers_print_exactly_what_one_process_prints(analyzer):
    lines = _lines(300)
    one = _run(lines, analyzer, workers=1, chunk_lines=40)
    two = _run(lines, analyzer, workers=2, chunk_lines=40, batch_size=16)
    assert two == one
    ids = [json.loads(row)["id"] for row in two[0].splitlines()]
    assert ids == sorted(ids) and len(ids) == 300 - two[2]


def test_bad_lines_are_reported_by_their_own_line_number_in_order(analyzer):
    _, err, skipped = _run(_lines(300), analyzer, workers=2, chunk_lines=25)
    reported = [int(m.split(":")[1]) for m in err.splitlines()]
    expected = [i + 1 for i in range(300) if i % 29 == 5 or i % 31 == 7 or i % 97 == 11]
    assert reported == expected and skipped == len(expected)
    assert "posts.jsonl:6: not JSON" in err
    assert "posts.jsonl:8: no string field `text`" in err
    assert "posts.jsonl:12: not JSON we can read (nested too deeply)" in err


def test_a_short_input_is_classified_without_starting_workers(analyzer, monkeypatch):
    monkeypatch.setattr(classify, "_classify_parallel", lambda *a, **k: pytest.fail("started workers"))
    out, err, skipped = _run(_lines(20), analyzer, workers=4)
    assert len(out.splitlines()) == 20 - skipped and skipped == 3


def test_the_collector_runs_less_often_while_classifying_and_is_put_back_after(analyzer, monkeypatch):
    import gc

    seen = []
    real = classify.classify_lines
    monkeypatch.setattr(classify, "classify_lines", lambda *a, **k: (seen.append(gc.get_threshold()[0]), real(*a, **k))[1])
    before = gc.get_threshold()
    _run(_lines(20), analyzer, workers=1)
    assert seen and all(t == classify._GEN0_THRESHOLD for t in seen)
    assert gc.get_threshold() == before


def test_an_empty_input_prints_nothing(analyzer):
    assert _run([], analyzer, workers=2) == ("", "", 0)


def test_the_printed_row_holds_the_same_values_as_the_analysis_dict(analyzer):
    analyses = analyzer.analyse_batch(POSTS)
    assert any(a.features for a in analyses), "no model features to compare: is the model loaded?"
    assert any(e.trail for a in analyses for e in a.evidence)
    for text, a in zip(POSTS, analyses):
        d = a.to_dict()
        row = output_row({"text": text}, a)
        assert row == {"text": text, "primary": d["primary"], "labels": d["labels"], "scores": d["scores"],
                       "evidence": {"spans": d["evidence"], "trail": d["trail"], "features": d["features"],
                                    "model_version": d["model_version"]}}
        assert json.dumps(row, ensure_ascii=False)  # plain JSON values only


class _DiesOn:
    """An analyzer whose worker process ends abruptly on one text, as one killed for memory would."""

    def analyse_batch(self, texts):
        if "die" in texts:
            os._exit(3)
        return [Analysis(primary="none", labels=(), scores={}) for _ in texts]


def test_a_worker_that_dies_is_a_clear_error_naming_the_lost_lines():
    lines = [(i + 1, json.dumps({"text": "die" if i == 130 else "ok"}) + "\n") for i in range(200)]
    with pytest.raises(WorkerDied, match=r"posts.jsonl: a classify worker died .* lines 121-160"):
        _run(lines, _DiesOn(), workers=2, chunk_lines=40)


def test_the_worker_count_comes_from_settings_and_a_bad_one_is_named(monkeypatch):
    from pydantic import ValidationError

    from patrol.settings import Settings

    monkeypatch.setenv("PATROL_CLASSIFY_WORKERS", "many")
    with pytest.raises(ValidationError, match="classify_workers"):
        Settings()
    monkeypatch.setenv("PATROL_CLASSIFY_WORKERS", "3")
    assert Settings().classify_workers == 3
    assert classify.default_workers() >= 1


def test_huge_and_garbage_texts_in_a_parallel_run_are_classified_with_the_rest(analyzer):
    lines = _lines(60)
    lines[10] = (11, json.dumps({"id": 10, "text": "赌博平台加微信abc12345 " * 60_000}, ensure_ascii=False) + "\n")
    lines[20] = (21, json.dumps({"id": 20, "text": "\udcff\x00\x01\ufffe" + bytes(range(256)).decode("latin-1")}) + "\n")
    out, err, skipped = _run(lines, analyzer, workers=2, chunk_lines=8)
    # split on newlines only: U+0085 and U+2028 stay raw inside JSON strings
    rows = {r["id"]: r for r in map(json.loads, out.split("\n")[:-1])}
    assert len(rows) == 60 - skipped
    assert "gambling" in rows[10]["labels"]
    assert any(s["kind"] == "truncated" for s in rows[10]["evidence"]["trail"])
    assert rows[20]["primary"] == "none"
