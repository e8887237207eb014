"""Progress of long commands: a one-line summary with rate and ETA at each interval when the output
is not a terminal, a Rich bar when it is, and the commands that use it."""
from __future__ import annotations

import io
import json

from app.progress import Progress, count_lines


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_off_a_terminal_it_prints_one_line_per_interval_with_the_rate_now_and_the_eta():
    out, clock = io.StringIO(), Clock()
    progress = Progress("patrol ingest", total=1000, unit="posts", stream=out, interval=10, clock=clock)
    clock.t += 5
    progress.advance(100)
    assert out.getvalue() == ""                       # not before the interval is up
    clock.t += 5
    progress.advance(100)                             # 200 in 10 s: 20/s, 800 left: 40 s
    clock.t += 10
    progress.advance(100)                             # 100 in the last 10 s: 10/s now, 700 left: 70 s
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "patrol ingest: 200 / 1,000 posts (20.0%), 20/s now, 20/s overall, ETA 40s"
    assert lines[1] == "patrol ingest: 300 / 1,000 posts (30.0%), 10/s now, 15/s overall, ETA 1m10s"
    assert lines[2] == "patrol ingest: done, 300 posts in 20s (15/s)"


def test_without_a_known_total_there_is_a_count_and_a_rate_but_no_eta():
    out, clock = io.StringIO(), Clock()
    progress = Progress("patrol classify", stream=out, interval=1, unit="lines", clock=clock)
    clock.t += 2
    progress.advance(50)
    assert out.getvalue().strip() == "patrol classify: 50 lines, 25/s now, 25/s overall"
    assert progress.eta_seconds() is None


def test_on_a_terminal_it_draws_a_rich_bar_instead():
    out = io.StringIO()
    with Progress("patrol reindex", total=10, stream=out, live=True) as progress:
        progress.advance(10)
    text = out.getvalue()
    assert "patrol reindex" in text and "10/10" in text
    assert "done," not in text                        # the summary lines are for logs only


def test_count_lines_counts_a_last_line_without_a_newline(tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_bytes(b"{}\n{}\n{}")
    assert count_lines(f) == 3
    assert count_lines(None) is None and count_lines("-") is None


def test_patrol_ingest_ends_with_the_summary_line_on_stderr(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from app.cli import app

    monkeypatch.setenv("PATROL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATROL_PROGRESS_INTERVAL", "0")  # a line per batch, as a long run gives
    posts = tmp_path / "posts.jsonl"
    posts.write_text("".join(json.dumps({"source": "other", "url": f"http://127.0.0.1/p/{i}", "text": f"今天天气 {i}"},
                                        ensure_ascii=False) + "\n" for i in range(300)), encoding="utf-8")
    assert CliRunner().invoke(app, ["init"]).exit_code == 0
    result = CliRunner().invoke(app, ["ingest", str(posts)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "300 new" in result.stdout
    assert "patrol ingest: 256 / 300 lines (85.3%)" in result.stderr
    assert "patrol ingest: done, 300 lines in" in result.stderr


def test_a_command_done_within_the_first_interval_prints_no_summary():
    out, clock = io.StringIO(), Clock()
    with Progress("patrol reindex", total=5, stream=out, interval=10, clock=clock) as progress:
        clock.t += 3
        progress.advance(5)
    assert out.getvalue() == ""
