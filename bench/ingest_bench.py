"""Ingest benchmark: how fast is `patrol ingest`, and does it keep its rate as the store grows?

Runs the path `patrol ingest FILE` runs (JSONL lines → read_jsonl_posts → Ingestor.ingest in
batches of the command's size inside Ingestor.deferred_index: classify changes, analyse with the
shipped model, one store transaction with the alerts, the event views, the index every 4,096
posts) over synthetic Chinese posts, on the embedded defaults (SQLite store and tantivy index in a
temp dir), and prints the rate of each window of `window` posts: a store that slows as it grows
shows as falling windows. Each window also gives the store's size on disk and the CPU
milliseconds per post of each step.

    python -m bench.ingest_bench [n_posts] [window] [baseline] [workers]   # 200,000 / 50,000 / 20,000 / 1
    make bench                                                             # 1,000,000 (BENCH_INGEST_POSTS)

First, in the same run, a **baseline** ingests the first `baseline` posts into its own home on
the path before issue 14's batching (each alert opened on its own, `Store.save_batch(...,
one_by_one=True)`, and the index committed after every batch); `baseline.gain_per_cpu_s` is the
rate per CPU-second of the current path over the same posts divided by the baseline's.

Rates are given as wall posts/s (what an operator waits for) and per CPU-second of this process
(`per_cpu_s`: the store, index, events and analyzer all run in it; it moves less than the wall rate
when other work takes the shared cores, but it still moves: a loaded machine slows each core's
caches too). With `workers` > 1 the analysis runs in child processes, whose CPU is not counted:
compare wall rates then. Figures and the commands that made them: docs/INGEST.md.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Iterator

from bench.search_bench import synthetic_posts

BATCH = 256  # `patrol ingest`'s batch (app/cli.py)


def jsonl_lines(n: int, seed: int = 11) -> Iterator[tuple[int, str]]:
    """The bench corpus: numbered JSONL lines, generated lazily."""
    # synthetic_posts builds every post up front; 50,000 at a time keeps memory flat at 1M.
    step = 50_000
    lineno = 0
    for start in range(0, n, step):
        for p in synthetic_posts(min(step, n - start), seed=seed + start):
            lineno += 1
            yield lineno, json.dumps({
                "source": p.source, "url": f"https://example.cn/t/{lineno}", "external_id": str(lineno),
                "title": p.title, "text": p.text, "author": p.author,
                "published_at": p.published_at.isoformat()}, ensure_ascii=False)


def _size_mb(home: Path) -> float:
    return round(sum(f.stat().st_size for f in home.rglob("*") if f.is_file()) / 1e6, 1)


def _window(done: int, n: int, wall: float, cpu: float, home: Path) -> dict:
    return {"posts": done, "per_s": round(n / wall), "per_cpu_s": round(n / cpu), "store_mb": _size_mb(home)}


class _Phases:
    """CPU seconds of this process per step of Ingestor.ingest: the store's change check, the
    analyzer, the store's transaction, the event views, the index (with its store reads and marks).
    Wraps the ingestor's collaborators; what is left of the total is parsing and the rules."""

    def __init__(self, ingestor):
        self.cpu: dict[str, float] = {}
        ingestor.store = self._proxy(ingestor.store, {"classify_changes": "classify", "save_batch": "store"})
        ingestor.analyzer = self._proxy(ingestor.analyzer, {"analyse_batch": "analyse"})
        if ingestor.events is not None:
            ingestor.events = self._proxy(ingestor.events, {"update": "events"})
        ingestor._index = self._timed(ingestor._index, "index")

    def _timed(self, fn, phase: str):
        def timed(*args, **kwargs):
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu[phase] = self.cpu.get(phase, 0.0) + time.process_time() - start
        return timed

    def _proxy(self, target, methods: dict[str, str]):
        phases = self

        class Timed:
            def __getattr__(self, name):
                value = getattr(target, name)
                return phases._timed(value, methods[name]) if name in methods else value
        return Timed()

    def per_post_since(self, before: dict[str, float], n: int) -> dict[str, float]:
        """CPU milliseconds per post of each step since the `before` snapshot (one window)."""
        return {k: round((v - before.get(k, 0.0)) * 1000 / n, 3) for k, v in sorted(self.cpu.items())}

    def shares(self, total_cpu: float) -> dict[str, float]:
        out = {k: round(v / total_cpu, 3) for k, v in sorted(self.cpu.items())}
        out["other"] = round(1 - sum(out.values()), 3)
        return out


def _ingest(home: Path, corpus: Path, window: int, *, one_by_one: bool = False, per_batch_index: bool = False,
            workers: int = 1, limit: int | None = None, mark: int | None = None) -> dict:
    """One `patrol ingest` of `corpus` into a new home; `one_by_one` and `per_batch_index` give
    the path before issue 14's batching (each alert opened on its own, the index committed after
    every batch), the baseline. `mark`: also report the CPU-second rate over the first `mark` posts."""
    from app.bootstrap import build_services
    from patrol.ingest import IngestReport, read_jsonl_posts
    from patrol.settings import Settings

    os.environ["PATROL_HOME"] = str(home)
    services = build_services(Settings(home=home))
    ingestor = services.ingestor
    # The models load outside the clock, as a running command has them.
    ingestor.analyzer.analyse("预热")
    if services.events is not None:
        services.events.sentiment.score_batch(["预热"])
    if workers > 1:
        from app.analyzer_pool import AnalyzerPool

        ingestor.analyzer = AnalyzerPool(ingestor.analyzer, workers)
    if one_by_one:
        save_batch = services.store.save_batch
        ingestor.store = _Replace(services.store, save_batch=lambda *a: save_batch(*a, one_by_one=True))
    phases = _Phases(ingestor)
    out: dict = {"windows": []}
    total = IngestReport()
    started = window_start = time.perf_counter()
    cpu_start = window_cpu = time.process_time()
    batch, done, window_done = [], 0, 0
    window_cpu_phases: dict[str, float] = {}
    errors: list[str] = []
    with open(corpus, encoding="utf-8") as lines, \
            (nullcontext(IngestReport()) if per_batch_index else ingestor.deferred_index()) as tail:
        for raw in read_jsonl_posts(enumerate(lines, 1), str(corpus), on_error=errors.append):
            batch.append(raw)
            if len(batch) < BATCH and done + len(batch) != limit:
                continue
            total.merge(ingestor.ingest(batch))
            done += len(batch)
            batch = []
            if mark and "per_cpu_s_first" not in out and done >= mark:
                out["per_cpu_s_first"] = round(done / (time.process_time() - cpu_start))
            if done - window_done >= window:
                now, cpu = time.perf_counter(), time.process_time()
                out["windows"].append(_window(done, done - window_done, now - window_start, cpu - window_cpu, home)
                                      | {"cpu_ms_per_post": phases.per_post_since(window_cpu_phases, done - window_done)})
                print(json.dumps(out["windows"][-1]), file=sys.stderr, flush=True)
                window_start, window_done, window_cpu = now, done, cpu
                window_cpu_phases = dict(phases.cpu)
            if done == limit:
                break
        if batch:
            total.merge(ingestor.ingest(batch))
            done += len(batch)
    total.merge(tail)
    now, cpu = time.perf_counter(), time.process_time()
    if done > window_done:
        out["windows"].append(_window(done, done - window_done, now - window_start, cpu - window_cpu, home))
    out.update(posts=done, per_s_overall=round(done / (now - started)), per_cpu_s_overall=round(done / (cpu - cpu_start)),
               seconds=round(now - started, 1), cpu_seconds=round(cpu - cpu_start, 1),
               cpu_share=phases.shares(cpu - cpu_start), ingested=total.new, indexed=total.indexed,
               alerts_opened=total.alerts_opened, bad_lines=len(errors))
    rates = [w["per_cpu_s"] for w in out["windows"]]
    out["last_over_first_window_cpu"] = round(rates[-1] / rates[0], 2) if rates else None
    if workers > 1:
        ingestor.analyzer.close()
    services.close()
    return out


class _Replace:
    """`target` with some attributes replaced (the baseline's one-by-one save_batch)."""

    def __init__(self, target, **replaced):
        self._target, self._replaced = target, replaced

    def __getattr__(self, name):
        return self._replaced[name] if name in self._replaced else getattr(self._target, name)


def run(n_posts: int | None = None, window: int = 50_000, baseline: int | None = None, workers: int = 1) -> dict:
    """`n_posts`: default BENCH_INGEST_POSTS, else 1,000,000 (what `make bench` runs). `baseline`:
    how many of the same posts the baseline path ingests first, in this run, into its own home
    (default min(n_posts, 20,000); 0: none). `workers`: `patrol ingest --workers`."""
    n_posts = n_posts or int(os.environ.get("BENCH_INGEST_POSTS", 1_000_000))
    baseline = min(n_posts, 20_000) if baseline is None else baseline
    out: dict = {"n_posts": n_posts, "window": window, "batch": BATCH, "workers": workers,
                 "load_average_at_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        # Written out first, outside the clock: the bench times reading the file, not making it.
        corpus = Path(tmp) / "posts.jsonl"
        with open(corpus, "w", encoding="utf-8") as f:
            for _, line in jsonl_lines(n_posts):
                f.write(line + "\n")
        out["corpus_mb"] = round(corpus.stat().st_size / 1e6, 1)
        if baseline:
            base = _ingest(Path(tmp) / "baseline", corpus, max(baseline, 1), one_by_one=True,
                           per_batch_index=True, limit=baseline)
            out["baseline"] = {k: base[k] for k in ("posts", "per_s_overall", "per_cpu_s_overall", "seconds",
                                                    "cpu_seconds", "cpu_share", "alerts_opened")}
        main = _ingest(Path(tmp) / "home", corpus, window, workers=workers, mark=baseline if baseline < n_posts else None)
        out.update(main)
        if baseline:
            # The same first posts, both paths, same machine, same minutes: the gain per CPU-second.
            ours = main.pop("per_cpu_s_first", main["per_cpu_s_overall"])
            out["baseline"]["ours_per_cpu_s_same_posts"] = ours
            out["baseline"]["gain_per_cpu_s"] = round(ours / base["per_cpu_s_overall"], 2)
    out["load_average_at_end"] = os.getloadavg()
    return out


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:5]] or [200_000]
    print(json.dumps(run(*args), ensure_ascii=False, indent=2))
