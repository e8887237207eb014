"""Classification speed and memory: `patrol classify` against plain `jieba.lcut`, same texts, same run.

    python -m bench.classify_bench [N] [DATA] [ROUNDS] [SHORT_N]

Two corpora, each timed against `jieba.lcut` on the same texts in the same run:
  * long: ~100-character posts cut from the dev split of the labelled data. Goal: `patrol classify`
    at least 3.5x the posts/s of `jieba.lcut` without start-up, at most 500 MB for classifying.
  * short: real short posts as they are (chat lines and comments of `../shared/datasets/real/`,
    median ~13 characters), the traffic the classifier is judged on. Goal: `patrol classify` at
    least 1.0x `jieba.lcut` with start-up included on both sides (jieba's dictionary load is timed
    in a fresh process, as the command's start-up is), at most 1 GB.

What is timed:
  * `patrol classify FILE > out`: the real command, as a subprocess, over a JSONL file of N posts
    (the worker processes it starts included). Its rate is given twice: end to end, and without
    start-up (the wall time of the same command over a one-line file is subtracted), since start-up
    is paid once per run, not per post. The goal is judged on the rate without start-up.
  * the Analyzer alone, in one fresh process, in batches (no JSON, no workers): what one core does.
  * `jieba.lcut` over the same texts in this process.
The command and jieba alternate for ROUNDS rounds (default 3) and the medians are compared; the
ratio of each round is printed too, so that the noise of a shared machine is visible.
Memory is measured in one more run of the command, not timed: reading a process's smaps_rollup
costs ~4 ms of CPU, so a sampler every 20 ms took ~17% of a core away from the timed command on a
2-core machine (measured 2026-11-25), a cost jieba's side never paid. That run samples every 20 ms
over the command's whole process tree: the largest resident size of one process, the sum of
resident sizes (counts pages shared by forked workers once per process, so it overstates), and
the sum of proportional set sizes (shared pages split between the processes sharing them: the
memory the run actually takes). Texts are ~100-character posts cut from the dev
split of the labelled data (or synthetic ones when the data is not there).
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

DEFAULT_DATA = Path(os.environ.get("PATROL_BENCH_DATA", "../shared/datasets/labelled_posts.jsonl"))
REAL_DIR = Path(os.environ.get("PATROL_BENCH_REAL", "../shared/datasets/real"))
SHORT_N = 20_000
GOAL_SHORT_SPEEDUP_WITH_STARTUP = 1.0
GOAL_SHORT_RSS_MB = 1024
BATCH = 512
GOAL_SPEEDUP = 3.5
GOAL_RSS_MB = 500
ROUNDS = 3


def bench_texts(n: int, data: Path = DEFAULT_DATA, length: int = 100, seed: int = 0) -> list[str]:
    """n posts of about `length` characters: dev texts, short ones joined, long ones cut."""
    pool: list[str] = []
    if data.is_file():
        with data.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row.get("split") == "dev" and row.get("text"):
                    pool.append(row["text"])
    if not pool:
        from nlp import silver

        pool = [p.text for p in silver.generate(max(50, n // 10), seed=seed)]
    rng = random.Random(seed)
    rng.shuffle(pool)
    out: list[str] = []
    buf = ""
    i = 0
    while len(out) < n:
        buf += pool[i % len(pool)]
        i += 1
        while len(buf) >= length and len(out) < n:
            out.append(buf[:length])
            buf = buf[length:]
    return out


def short_texts(n: int, real_dir: Path = REAL_DIR, seed: int = 0) -> list[str]:
    """n real short posts, unchanged: Telegram chat lines and platform comments, shuffled; the
    long corpus stands in when the real folder is not there (the figures then say so)."""
    pool: list[str] = []
    for name in ("tg_spam.jsonl", "chnci_comments.jsonl.gz"):
        path = real_dir / name
        if not path.is_file():
            continue
        import gzip

        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            pool += [json.loads(line)["text"] for line in fh if line.strip()]
    if not pool:
        return bench_texts(n, length=15, seed=seed)
    rng = random.Random(seed)
    rng.shuffle(pool)
    return [pool[i % len(pool)] for i in range(n)]


# ------------------------------------------------------------------ the real command


def _patrol_command() -> list[str]:
    script = Path(sys.executable).parent / "patrol"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from app.cli import app; app()"]


def _tree(root: int) -> list[int]:
    """root and all its descendants, from /proc."""
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return pids


def _kb(path: str, key: str) -> int:
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class _MemorySampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.02):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.stop = threading.Event()
        self.peak_rss_sum = self.peak_pss_sum = self.peak_rss_one = 0
        self.peak_processes = 0

    def run(self) -> None:
        while not self.stop.is_set():
            pids = _tree(self.pid)
            rss = [_kb(f"/proc/{p}/status", "VmRSS:") for p in pids]
            pss = [_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids]
            self.peak_rss_sum = max(self.peak_rss_sum, sum(rss))
            self.peak_pss_sum = max(self.peak_pss_sum, sum(pss))
            self.peak_rss_one = max(self.peak_rss_one, max(rss, default=0))
            self.peak_processes = max(self.peak_processes, sum(1 for r in rss if r))
            self.stop.wait(self.every)


def run_classify_command(path: Path, env: dict | None = None, sample_memory: bool = False) -> dict:
    """Wall time and CPU time of `patrol classify path`, and with `sample_memory` its peak memory
    (then the wall time is not comparable: the sampler takes CPU from the command); the output is
    counted and dropped."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.Popen(_patrol_command() + ["classify", str(path)], stdout=out, stderr=err,
                                env=env or os.environ.copy())
        sampler = _MemorySampler(proc.pid)
        if sample_memory:
            sampler.start()
        code = proc.wait()
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers were waited for by it
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if sample_memory:
            sampler.stop.set()
            sampler.join()
        out.seek(0)
        rows = sum(1 for _ in out)
        err.seek(0)
        messages = err.read().decode("utf-8", "replace")
    if code != 0:
        raise RuntimeError(f"patrol classify exited with {code}: {messages[-2000:]}")
    return {"seconds": wall, "cpu_seconds": cpu, "rows": rows, "rss_sum_mb": sampler.peak_rss_sum / 1024,
            "pss_sum_mb": sampler.peak_pss_sum / 1024, "rss_one_mb": sampler.peak_rss_one / 1024,
            "processes": sampler.peak_processes}


# ------------------------------------------------------------------ the Analyzer alone


def _analyzer_child(texts: list[str], conn) -> None:
    t0 = time.perf_counter()
    from nlp.analyzer import Analyzer

    analyzer = Analyzer.default()
    analyzer.analyse_batch(texts[:64])  # warm-up: lazy tables, first model call
    startup = time.perf_counter() - t0
    t = time.perf_counter()
    flagged = 0
    for i in range(0, len(texts), BATCH):
        flagged += sum(1 for a in analyzer.analyse_batch(texts[i:i + BATCH]) if a.labels)
    elapsed = time.perf_counter() - t
    conn.send({
        "analyzer_seconds": elapsed,
        "analyzer_startup_seconds": round(startup, 2),
        "analyzer_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "model_version": analyzer.model_version,
        "flagged_share": flagged / len(texts),
    })
    conn.close()


def run_analyzer_alone(texts: list[str]) -> dict:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_analyzer_child, args=(texts, child))
    proc.start()
    child.close()
    result = parent.recv()
    proc.join()
    return result


def run_jieba(texts: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of `jieba.lcut` over the texts."""
    import jieba

    jieba.setLogLevel(60)
    jieba.lcut(texts[0])  # builds the prefix dictionary outside the timing
    t, c = time.perf_counter(), time.process_time()
    for text in texts:
        jieba.lcut(text)
    return time.perf_counter() - t, time.process_time() - c


_JIEBA_FRESH = """
import sys, time, json
t = time.perf_counter()
import jieba
jieba.setLogLevel(60)
texts = [json.loads(l)["text"] for l in open(sys.argv[1], encoding="utf-8")]
for text in texts:
    jieba.lcut(text)
print(time.perf_counter() - t)
"""


def run_jieba_fresh(path: Path) -> float:
    """Wall seconds of a fresh process that imports jieba, reads the JSONL and cuts every text:
    jieba's side with its start-up (the prefix dictionary) included, like the command's."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", _JIEBA_FRESH, str(path)], check=True, capture_output=True)
    return time.perf_counter() - t


def _write_inputs(tmp: Path, texts: list[str], name: str) -> tuple[Path, Path]:
    """The JSONL input of all texts, and a one-line input for timing the command's start-up."""
    path, one = tmp / name, tmp / "one.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(texts):
            fh.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
    one.write_text(json.dumps({"id": 0, "text": texts[0]}, ensure_ascii=False) + "\n", encoding="utf-8")
    return path, one


def run_short(n: int = SHORT_N, rounds: int = ROUNDS) -> dict:
    """The short-post corpus: both ratios, start-up included (the goal) and excluded."""
    texts = short_texts(n)
    with tempfile.TemporaryDirectory() as tmp:
        path, one = _write_inputs(Path(tmp), texts, "short.jsonl")
        with_startup, steady = [], []
        for _ in range(rounds):
            jieba_total = run_jieba_fresh(path)
            jieba_wall, _ = run_jieba(texts)
            first = run_classify_command(one)
            command = run_classify_command(path)
            if command["rows"] != n:
                raise RuntimeError(f"patrol classify printed {command['rows']} rows for {n} posts")
            with_startup.append(jieba_total / command["seconds"])
            steady.append(jieba_wall / max(1e-9, command["seconds"] - first["seconds"]))
        memory = run_classify_command(path, sample_memory=True)
    return {
        "short_posts": n,
        "short_mean_chars": round(sum(map(len, texts)) / n, 1),
        "short_speedup_with_startup": round(statistics.median(with_startup), 2),
        "short_speedup_with_startup_per_round": [round(x, 2) for x in with_startup],
        "short_speedup_goal_with_startup": GOAL_SHORT_SPEEDUP_WITH_STARTUP,
        "short_speedup_without_startup": round(statistics.median(steady), 2),
        "short_classify_pss_sum_mb": round(memory["pss_sum_mb"], 1),
        "short_rss_goal_mb": GOAL_SHORT_RSS_MB,
    }


def run(n: int = 40_000, data: Path = DEFAULT_DATA, rounds: int = ROUNDS, short_n: int = SHORT_N) -> dict:
    texts = bench_texts(n, data)
    jieba_rates, steady_rates, e2e_rates, startups = [], [], [], []
    jieba_cpu, classify_cpu = [], []
    with tempfile.TemporaryDirectory() as tmp:
        big, one = _write_inputs(Path(tmp), texts, "posts.jsonl")
        # the machine is shared: rounds interleave both sides, so a busy spell hits both alike
        for _ in range(rounds):
            wall, cpu = run_jieba(texts)
            jieba_rates.append(n / wall)
            jieba_cpu.append(cpu / n)
            first = run_classify_command(one)
            startup = first["seconds"]
            command = run_classify_command(big)
            classify_cpu.append(max(1e-9, command["cpu_seconds"] - first["cpu_seconds"]) / n)
            if command["rows"] != n:
                raise RuntimeError(f"patrol classify printed {command['rows']} rows for {n} posts")
            startups.append(startup)
            steady_rates.append(n / max(1e-9, command["seconds"] - startup))
            e2e_rates.append(n / command["seconds"])
        memory = run_classify_command(big, sample_memory=True)
        if memory["rows"] != n:
            raise RuntimeError(f"patrol classify printed {memory['rows']} rows for {n} posts")
    alone = run_analyzer_alone(texts)
    alone_rate = n / alone["analyzer_seconds"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    jieba_rate = statistics.median(jieba_rates)
    steady = statistics.median(steady_rates)
    end_to_end = statistics.median(e2e_rates)
    return {
        "posts": n,
        "mean_chars": round(sum(map(len, texts)) / n, 1),
        "rounds": rounds,
        "command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(_patrol_command())) + " classify FILE",
        "cores": cores,
        "load_average_after": round(load, 2) if load is not None else None,
        "jieba_posts_per_s": round(jieba_rate),
        "classify_posts_per_s": round(steady),
        "speedup_vs_jieba": round(steady / jieba_rate, 2),
        "speedup_goal": GOAL_SPEEDUP,
        "speedup_per_round": [round(s_ / j, 2) for s_, j in zip(steady_rates, jieba_rates)],
        # CPU time per post, summed over the command's processes, start-up excluded: what the
        # wall-clock figures are made of when other jobs take cores away mid-run
        "jieba_cpu_us_per_post": round(statistics.median(jieba_cpu) * 1e6, 1),
        "classify_cpu_us_per_post": round(statistics.median(classify_cpu) * 1e6, 1),
        "speedup_if_all_cores_free": round(statistics.median(jieba_cpu) / statistics.median(classify_cpu) * cores, 2),
        "classify_end_to_end_posts_per_s": round(end_to_end),
        "end_to_end_speedup_vs_jieba": round(end_to_end / jieba_rate, 2),
        "classify_startup_seconds": round(statistics.median(startups), 2),
        # from the untimed run with the memory sampler
        "classify_processes": memory["processes"],
        "classify_rss_sum_mb": round(memory["rss_sum_mb"], 1),
        "classify_pss_sum_mb": round(memory["pss_sum_mb"], 1),
        "classify_rss_largest_process_mb": round(memory["rss_one_mb"], 1),
        "rss_goal_mb": GOAL_RSS_MB,
        "analyzer_alone_posts_per_s": round(alone_rate),
        "analyzer_alone_speedup_vs_jieba": round(alone_rate / jieba_rate, 2),
        "analyzer_alone_rss_mb": round(alone["analyzer_rss_mb"], 1),
        "analyzer_startup_s": alone["analyzer_startup_seconds"],
        "flagged_share": round(alone["flagged_share"], 4),
        "model_version": alone["model_version"],
        "batch": BATCH,
        **(run_short(short_n, rounds) if short_n else {}),
    }


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 40_000
    data = Path(argv[2]) if len(argv) > 2 else DEFAULT_DATA
    rounds = int(argv[3]) if len(argv) > 3 else ROUNDS
    short_n = int(argv[4]) if len(argv) > 4 else SHORT_N
    print(json.dumps(run(n, data, rounds, short_n), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
