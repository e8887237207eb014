"""`patrol classify`: JSONL in, JSONL out, in batches. A bad line is reported with its number and
skipped; it never stops the rest of the stream.

A large input is classified by worker processes (unless the model runs its sentence encoder,
whose engine is parallel inside and cannot be forked; then one process does it all), each taking whole chunks of lines (the Analyzer is
bound by Python per-object work, so threads would not help). The workers are forked from the
process that already built the Analyzer: they share its lexicons, dictionaries and model pages
instead of loading their own. Output keeps input order, chunk by chunk, and every message names the
line it is about, exactly as in one process; only stdout/stderr interleaving may differ.
"""
from __future__ import annotations

import dataclasses
import gc
import json
import multiprocessing as mp
import os
import re
from collections import deque
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import IO, Iterable, Iterator

from nlp.analysis import Evidence, TrailStep

# Lines per chunk handed to a worker: big enough that pickling a chunk costs nothing next to
# classifying it (~0.1 s of work), small enough that the last chunk leaves the other worker idle
# only briefly and that the chunks in flight hold little memory.
CHUNK_LINES = 512
# Chunks queued per worker: one being classified, one waiting, so no worker idles between chunks.
IN_FLIGHT_PER_WORKER = 2

# one encoder for every row: json.dumps(..., ensure_ascii=False) builds a new one per call
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_EVIDENCE_FIELDS = tuple(f.name for f in dataclasses.fields(Evidence))
_STEP_FIELDS = tuple(f.name for f in dataclasses.fields(TrailStep))


def default_workers() -> int:
    """Worker processes for a large input when none are configured: one per usable core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _step(t: TrailStep) -> dict:
    return {name: getattr(t, name) for name in _STEP_FIELDS}


def _evidence(e: Evidence) -> dict:
    d = {name: getattr(e, name) for name in _EVIDENCE_FIELDS}
    d["trail"] = [_step(t) for t in e.trail]
    return d


def output_row(obj: dict, analysis) -> dict:
    """`obj` with the analysis added, as `patrol classify` prints it.

    The same values as `Analysis.to_dict()` (a test holds them equal), built directly: the
    generic `dataclasses.asdict` deep-copies every value and costs more than classifying a post.
    """
    obj["primary"] = analysis.primary
    obj["labels"] = list(analysis.labels)
    obj["scores"] = dict(analysis.scores)
    obj["evidence"] = {
        "spans": [_evidence(e) for e in analysis.evidence],
        "trail": [_step(t) for t in analysis.trail],
        "features": {k: [list(f) for f in v] for k, v in analysis.features.items()},
        "model_version": analysis.model_version,
    }
    return obj


def classify_lines(lines: list[tuple[int, str]], analyzer, *, batch_size: int = 256,
                   name: str = "<stdin>") -> tuple[str, str, int]:
    """Classify numbered JSONL lines: (output JSONL, error messages, lines skipped)."""
    out: list[str] = []
    errors: list[str] = []
    batch: list[dict] = []

    def flush() -> None:
        if not batch:
            return
        analyses = analyzer.analyse_batch([obj["text"] for obj, _ in batch])
        for (obj, escaped), analysis in zip(batch, analyses):
            row = _ENCODE(output_row(obj, analysis))
            # only a \u escape in the input line can carry a lone surrogate into a value
            out.append((_escape_surrogates(row) if escaped else row) + "\n")
        batch.clear()

    for lineno, line in lines:
        try:
            obj = json.loads(line)
        except ValueError as exc:
            msg = getattr(exc, "msg", str(exc))
            col = getattr(exc, "colno", "?")
            errors.append(f"{name}:{lineno}: not JSON ({msg} at column {col}); skipped\n")
            continue
        except RecursionError:
            errors.append(f"{name}:{lineno}: not JSON we can read (nested too deeply); skipped\n")
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            errors.append(f"{name}:{lineno}: no string field `text`; skipped\n")
            continue
        batch.append((obj, "\\u" in line))
        if len(batch) >= batch_size:
            flush()
    flush()
    return "".join(out), "".join(errors), len(errors)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogates(row: str) -> str:
    """A lone surrogate (an unpaired \\ud800-\\udfff escape in the input) is no character UTF-8
    can write: written raw it fails the whole output stream. Escaped again it is valid JSON that
    reads back to the same string, so the line is classified and nothing is lost."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", row)


def _chunks(lines: Iterable[tuple[int, str]], size: int) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    for item in lines:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# The analyzer a forked worker uses: set in the parent just before the fork, so each child finds
# it in its copy of this module's memory and nothing has to be pickled or rebuilt.
_WORKER_ANALYZER = None


def _worker_chunk(chunk: list[tuple[int, str]], batch_size: int, name: str) -> tuple[str, str, int]:
    return classify_lines(chunk, _WORKER_ANALYZER, batch_size=batch_size, name=name)


def classify_stream(lines: Iterable[tuple[int, str]], analyzer, out: IO[str], err: IO[str], *,
                    batch_size: int = 256, name: str = "<stdin>", workers: int | None = None,
                    chunk_lines: int = CHUNK_LINES) -> int:
    """Classify numbered JSONL lines to `out`, messages to `err`; returns how many lines were skipped.

    `workers`: processes for an input longer than one chunk (default `default_workers()`); 1
    classifies in this process. Output order is input order either way.
    """
    workers = default_workers() if workers is None else max(1, workers)
    with _fewer_collections():
        return _classify_stream(lines, analyzer, out, err, batch_size, name, workers, chunk_lines)


# Classifying allocates short-lived containers by the million (hits, trail steps, evidence)
# and hardly ever makes a reference cycle, so the collector's default gen-0 threshold of 700
# mostly walks live objects for nothing. Measured with classify_lines over 20,000 bench posts, four
# alternating runs each: 137 -> 132 us per post at 20,000, a gain about the size of the run-to-run
# noise (+-5%) on this machine; 100,000 was no better.
_GEN0_THRESHOLD = 20_000


@contextmanager
def _fewer_collections():
    before = gc.get_threshold()
    gc.set_threshold(_GEN0_THRESHOLD, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _classify_stream(lines, analyzer, out, err, batch_size, name, workers, chunk_lines) -> int:
    chunks = _chunks(lines, chunk_lines)
    first = next(chunks, None)
    if first is None:
        return 0
    second = next(chunks, None)
    ctx = _fork_context()
    if getattr(getattr(analyzer, "model", None), "uses_encoder", False):
        # the encoder's engine runs its own threads on every core, and a process forked from one
        # that started them hangs in them: one process, parallel inside
        workers = 1
    if second is None or workers == 1 or ctx is None:
        skipped = 0
        for chunk in ([first] if second is None else _chain(first, second, chunks)):
            skipped += _emit(classify_lines(chunk, analyzer, batch_size=batch_size, name=name), out, err)
        return skipped
    return _classify_parallel(_chain(first, second, chunks), analyzer, out, err, ctx, workers, batch_size, name)


def _chain(first, second, rest):
    yield first
    yield second
    yield from rest


def _emit(result: tuple[str, str, int], out: IO[str], err: IO[str]) -> int:
    text, errors, skipped = result
    if errors:
        err.write(errors)
        err.flush()
    if text:
        out.write(text)
        out.flush()
    return skipped


def _fork_context():
    # fork is what lets workers share the built Analyzer; where it is missing or unsafe
    # (Windows, macOS), classify in one process rather than load the model once per worker
    if os.name != "posix" or "fork" not in mp.get_all_start_methods() or os.uname().sysname == "Darwin":
        return None
    return mp.get_context("fork")


class WorkerDied(RuntimeError):
    """A worker process ended without a result (killed, out of memory); says which lines were lost."""


# Touches every lazily built table of the normaliser (OpenCC, the traditional and rare-character
# probes, the pinyin patterns, the fold words) and the model's first call.
_WARM_UP = ("賭博網站 ＱＱ：１２３４５ ➕我🐧号 加薇❤信 du博 dubo yp 赌*博 刷 单 弓长三 幺三八一二三四五六七八 \u200b紫砂",
            "今天天气不错，去公园散步了。")


def _classify_parallel(chunks, analyzer, out, err, ctx, workers, batch_size, name) -> int:
    global _WORKER_ANALYZER
    _WORKER_ANALYZER = analyzer
    # built once here, the lazy tables are shared by every worker; built in each worker after
    # the fork they would cost each one the time and memory again
    analyzer.analyse_batch(list(_WARM_UP))
    # objects that survive a collection in the parent are moved out of the collector's reach, so
    # a collection in a child does not write to (and so copy) every page they sit on
    gc.collect()
    gc.freeze()
    skipped = 0
    pending: deque = deque()

    def take() -> int:
        future, first_line, last_line = pending.popleft()
        try:
            return _emit(future.result(), out, err)
        except BrokenProcessPool as exc:
            raise WorkerDied(f"{name}: a classify worker died (killed or out of memory?); lines "
                             f"{first_line}-{last_line} and after were not classified") from exc

    try:
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            try:
                for chunk in chunks:
                    pending.append((pool.submit(_worker_chunk, chunk, batch_size, name), chunk[0][0], chunk[-1][0]))
                    # bounded: a 10 GB input must not be read into memory ahead of the workers
                    while len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                        skipped += take()
                while pending:
                    skipped += take()
            except BaseException:
                for future, _, _ in pending:
                    future.cancel()
                raise
    finally:
        gc.unfreeze()
        _WORKER_ANALYZER = None
    return skipped
