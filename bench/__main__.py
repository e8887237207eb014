"""`python -m bench [NAME ...]`: run the benchmarks (all by default) and print their figures as JSON
lines, one per benchmark, then a short table. Names: classify, search, crawl, ingest."""
from __future__ import annotations

import importlib
import json
import sys
import time

BENCHES = {
    "classify": "bench.classify_bench",
    "search": "bench.search_bench",
    "crawl": "bench.crawl_bench",
    "ingest": "bench.ingest_bench",
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    results = {}
    for name in names:
        module = importlib.import_module(BENCHES[name])
        started = time.perf_counter()
        figures = module.run()
        figures["wall_seconds"] = round(time.perf_counter() - started, 1)
        results[name] = figures
        print(json.dumps({"bench": name, **figures}, ensure_ascii=False, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
