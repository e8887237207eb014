"""Classification speed and memory: the full Analyzer against plain `jieba.lcut`, same texts, same run.

    python -m bench.classify_bench [N] [DATA]

Goals (issue 4): the Analyzer (normalise + lexicons + detectors + model, in batches) at least
3.5x the posts/s of `jieba.lcut`, and a classifying process under 500 MB resident.

The Analyzer runs in a fresh child process so that its peak resident memory (ru_maxrss) is its
own and not jieba's dictionary; jieba runs in this process. Texts are ~100-character posts cut
from the dev split of the labelled data (or synthetic ones when the data is not there).
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import resource
import sys
import time
from pathlib import Path

DEFAULT_DATA = Path(os.environ.get("PATROL_BENCH_DATA", "../shared/datasets/labelled_posts.jsonl"))
BATCH = 512
GOAL_SPEEDUP = 3.5
GOAL_RSS_MB = 500


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


def run(n: int = 20000, data: Path = DEFAULT_DATA) -> dict:
    texts = bench_texts(n, data)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_analyzer_child, args=(texts, child))
    proc.start()
    child.close()
    result = parent.recv()
    proc.join()

    import jieba

    jieba.setLogLevel(60)
    jieba.lcut(texts[0])  # builds the prefix dictionary outside the timing
    t = time.perf_counter()
    for text in texts:
        jieba.lcut(text)
    jieba_s = time.perf_counter() - t

    analyzer_rate = n / result["analyzer_seconds"]
    jieba_rate = n / jieba_s
    return {
        "posts": n,
        "mean_chars": round(sum(map(len, texts)) / n, 1),
        "analyzer_posts_per_s": round(analyzer_rate),
        "jieba_posts_per_s": round(jieba_rate),
        "speedup_vs_jieba": round(analyzer_rate / jieba_rate, 2),
        "speedup_goal": GOAL_SPEEDUP,
        "analyzer_rss_mb": round(result["analyzer_rss_mb"], 1),
        "rss_goal_mb": GOAL_RSS_MB,
        "analyzer_startup_s": result["analyzer_startup_seconds"],
        "flagged_share": round(result["flagged_share"], 4),
        "model_version": result["model_version"],
        "batch": BATCH,
    }


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 20000
    data = Path(argv[2]) if len(argv) > 2 else DEFAULT_DATA
    print(json.dumps(run(n, data), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
