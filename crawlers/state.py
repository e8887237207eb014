"""What a source looked like at the end of the last pass, so the next pass fetches only what changed.

One small JSON file per source under settings.crawl_state_dir. The runner writes it only after the
pass's posts were ingested, so a crash between crawl and ingest re-fetches rather than forgets.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class CrawlState:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def path_for(self, source_name: str) -> Path:
        return self.directory / f"{source_name}.json"

    def load(self, source_name: str) -> dict[str, Any]:
        path = self.path_for(source_name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            # A damaged state file costs one full re-crawl of the source, never a failed pass.
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, source_name: str, data: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{source_name}.", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False, sort_keys=True)
            os.replace(tmp, self.path_for(source_name))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
