"""`patrol classify`: JSONL in, JSONL out, in batches. A bad line is reported with its number and
skipped; it never stops the rest of the stream."""
from __future__ import annotations

import json
from typing import IO, Iterable


def _flush(batch: list[dict], analyzer, out: IO[str]) -> None:
    if not batch:
        return
    analyses = analyzer.analyse_batch([obj["text"] for obj in batch])
    for obj, analysis in zip(batch, analyses):
        d = analysis.to_dict()
        obj["primary"] = d["primary"]
        obj["labels"] = d["labels"]
        obj["scores"] = d["scores"]
        obj["evidence"] = {
            "spans": d["evidence"],
            "trail": d["trail"],
            "features": d["features"],
            "model_version": d["model_version"],
        }
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


def classify_stream(lines: Iterable[tuple[int, str]], analyzer, out: IO[str], err: IO[str], *,
                    batch_size: int = 256, name: str = "<stdin>") -> int:
    """Classify numbered JSONL lines; returns how many lines were skipped."""
    batch: list[dict] = []
    skipped = 0
    for lineno, line in lines:
        try:
            obj = json.loads(line)
        except ValueError as exc:
            err.write(f"{name}:{lineno}: not JSON ({exc.msg} at column {exc.colno}); skipped\n")
            skipped += 1
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            err.write(f"{name}:{lineno}: no string field `text`; skipped\n")
            skipped += 1
            continue
        batch.append(obj)
        if len(batch) >= batch_size:
            _flush(batch, analyzer, out)
            batch = []
    _flush(batch, analyzer, out)
    return skipped
