"""`python -m crawlers.run_pass`: the child process of crawlers.runner.run_crawl.

Reads the job (settings, sources, per-source state) as JSON on stdin, crawls, and writes JSON lines
to the file descriptor given by --out-fd: {"batch": [RawPost, ...]} per ingest batch, then one
{"report": {...}} at the end. Scrapy's log goes to stderr, so nothing else can corrupt the stream.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from crawlers.process import crawl_in_this_process
from crawlers.sources import Source
from crawlers.wire import raw_post_to_dict
from patrol.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.run_pass")
    parser.add_argument("--out-fd", type=int, required=True, help="file descriptor to write JSON lines to")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)

    job = json.load(sys.stdin)
    settings = Settings.model_validate(job["settings"])
    sources = [Source.model_validate(s) for s in job["sources"]]
    out = os.fdopen(args.out_fd, "w", encoding="utf-8", buffering=1)

    def send_batch(batch):
        out.write(json.dumps({"batch": [raw_post_to_dict(p) for p in batch]}, ensure_ascii=False) + "\n")
        out.flush()
        return len(batch)

    report = crawl_in_this_process(settings, sources, send_batch, job.get("states", {}), log_level=args.log_level)
    out.write(json.dumps({"report": report.to_dict()}, ensure_ascii=False) + "\n")
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
