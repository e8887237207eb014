"""The analyzer of `patrol ingest --workers N`: each batch's analysis split across forked worker
processes, the store and index still written by the one calling process.

Analysis is the largest share of an ingest batch (bench/ingest_bench.py) and is bound by Python
per-object work, so threads would not help; processes forked from the one that built the Analyzer
share its lexicons, dictionaries and model pages (as `patrol classify`'s workers do, app/classify.py).
Results come back in input order, the same Analysis values one process gives (tested). The writes
stay in one process: one transaction per batch, in order, as without workers.
"""
from __future__ import annotations

import gc
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

# Below this many texts per worker, the pickling round trip costs more than it saves.
MIN_PER_WORKER = 32

_WORKER_ANALYZER = None


def _analyse(texts: list[str]):
    return _WORKER_ANALYZER.analyse_batch(texts)


class AnalyzerPool:
    """`analyzer` with analyse_batch fanned out to `workers` processes; everything else is the
    analyzer's own (model_version, analyse, reload_lexicons). Call close() when done."""

    def __init__(self, analyzer, workers: int):
        from app.classify import _WARM_UP, _fork_context

        self._analyzer = analyzer
        self.workers = workers
        self._pool = None
        ctx = _fork_context()
        if workers > 1 and ctx is not None and not getattr(getattr(analyzer, "model", None), "uses_encoder", False):
            global _WORKER_ANALYZER
            _WORKER_ANALYZER = analyzer
            analyzer.analyse_batch(list(_WARM_UP))  # build the lazy tables once, before the fork
            gc.collect()
            gc.freeze()  # keep the parent's objects out of the children's collections (no page copies)
            self._pool = ProcessPoolExecutor(workers, mp_context=ctx)

    @property
    def parallel(self) -> bool:
        return self._pool is not None

    def analyse_batch(self, texts):
        texts = list(texts)
        if self._pool is None or len(texts) < 2 * MIN_PER_WORKER:
            return self._analyzer.analyse_batch(texts)
        n = min(self.workers, len(texts) // MIN_PER_WORKER)
        step = -(-len(texts) // n)
        futures = [self._pool.submit(_analyse, texts[i:i + step]) for i in range(0, len(texts), step)]
        try:
            return [a for f in futures for a in f.result()]
        except BrokenProcessPool as exc:
            raise RuntimeError("an analysis worker died (killed or out of memory?); the batch was not "
                               "stored, run the same command again") from exc

    def __getattr__(self, name: str):
        return getattr(self._analyzer, name)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
            gc.unfreeze()
