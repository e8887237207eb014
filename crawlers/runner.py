"""`run_crawl`: one pass over the given sources, ingesting as it goes.

The crawl runs in a child process (`python -m crawlers.run_pass`) because Twisted's reactor can
be started only once per process: the CLI's `--loop`, the demo and the tests all need many passes
from one process. The child streams batches of RawPosts back over a pipe; `ingest` runs here, in
the caller's process, with the caller's database and index. State is saved only after a source's
posts were ingested, so a failed ingest means a re-fetch next pass, never a silent gap. The
state is the workflow database's (crawlers/state.py), shared by crawlers on every host.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from crawlers.report import CrawlReport
from crawlers.sources import Source, select_sources
from crawlers.state import CrawlState
from crawlers.wire import raw_post_from_dict
from patrol.posts import RawPost
from patrol.settings import Settings

_REPO_ROOT = Path(__file__).resolve().parent.parent


class CrawlError(RuntimeError):
    """The crawl process failed before it could report."""


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # The child must import the same code as the parent, installed or not.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run_crawl(
    settings: Settings,
    sources: list[Source],
    ingest: Callable[[list[RawPost]], Any],
    *,
    source_names: list[str] | None = None,
    log_level: str = "WARNING",
    timeout: float | None = None,
    state: CrawlState | None = None,
) -> CrawlReport:
    """`state`: where the sources' incremental state is read and saved; by default the configured
    workflow database (`settings`), opened for this pass."""
    if state is None:
        state = CrawlState.open(settings)
        try:
            return run_crawl(settings, sources, ingest, source_names=source_names, log_level=log_level,
                             timeout=timeout, state=state)
        finally:
            state.close()
    chosen = select_sources(sources, source_names)
    job = {
        "settings": settings.model_dump(mode="json"),
        "sources": [s.model_dump(mode="json") for s in chosen],
        "states": {s.name: state.load(s.name) for s in chosen},
    }
    read_fd, write_fd = os.pipe()
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "crawlers.run_pass", "--out-fd", str(write_fd), "--log-level", log_level],
            stdin=subprocess.PIPE, pass_fds=(write_fd,), env=_child_env(), cwd=str(_REPO_ROOT),
        )
    finally:
        os.close(write_fd)
    reports: list[Any] = []
    ingested: dict[str, int] = {}
    crawl_report: CrawlReport | None = None
    try:
        assert child.stdin is not None
        child.stdin.write(json.dumps(job).encode("utf-8"))
        child.stdin.close()
        with os.fdopen(read_fd, "r", encoding="utf-8") as stream:
            for line in stream:
                message = json.loads(line)
                if "batch" in message:
                    batch = [raw_post_from_dict(p) for p in message["batch"]]
                    reports.append(ingest(batch))
                    for post in batch:
                        ingested[post.source] = ingested.get(post.source, 0) + 1
                elif "report" in message:
                    crawl_report = CrawlReport.from_dict(message["report"])
        returncode = child.wait(timeout=timeout)
    except BaseException:
        # An ingest failure or an interrupt: stop crawling, and leave the state as it was.
        child.kill()
        child.wait()
        raise
    if crawl_report is None:
        raise CrawlError(f"the crawl process exited with code {returncode} without a report; see its log above")
    crawl_report.ingest_reports = reports
    for name, entry in crawl_report.sources.items():
        entry.ingested = ingested.get(name, 0)
        if entry.error is None and entry.state:
            state.save(name, entry.state)
    return crawl_report
