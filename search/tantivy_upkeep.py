"""The tantivy index's upkeep beside its reads and writes, with the same meaning as the SQLite
index's (search/sqlite_upkeep.py): its identity stamp, following its directory when it is moved
away or replaced, removing purged posts and rebuilding it whole.

The stamp lives in the index's layout file (`patrol-layout.json`, key `store_id`), written by an
atomic rename so a reader never sees half a file. The directory: the index remembers which one
(device, inode) it opened; one moved away makes every call raise IndexUnavailable instead of
serving the open copy while new posts go elsewhere, and a directory put back, or a new one at the
same path with the expected stamp (`patrol reindex --full`), is reopened.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Sequence

import tantivy

from search.index import IndexedPost, IndexUnavailable, check_post

LAYOUT_FILE = "patrol-layout.json"
_STAMP_KEY = "store_id"
# Set while a bulk() block is open: its adds are committed only every `commit_every` posts, and a
# caller such as `patrol ingest` marks posts indexed in the store as soon as add() returns. A crash
# in between leaves posts the store calls indexed missing from the index; the key left behind (with
# nobody holding the writer) says so, until `patrol reindex --full` rebuilds the index.
_BULK_KEY = "bulk_load_open"


def dir_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def read_layout(path: Path) -> dict:
    marker = path / LAYOUT_FILE
    try:
        found = json.loads(marker.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise IndexUnavailable(f"the search index at {path} has an unreadable {LAYOUT_FILE}") from exc
    if not isinstance(found, dict):
        raise IndexUnavailable(f"the search index at {path} has an unreadable {LAYOUT_FILE}")
    return found


def write_layout(path: Path, layout: dict) -> None:
    tmp = path / (LAYOUT_FILE + ".tmp")
    tmp.write_text(json.dumps(layout, sort_keys=True))
    os.replace(tmp, path / LAYOUT_FILE)


class TantivyUpkeep:
    """Mixed into TantivyIndex; uses its path, schema, layout (`pairs`), lock and writer."""

    path: Path
    _dir: tuple[int, int] | None
    _expected_stamp: str | None

    def _follow_dir(self) -> None:
        """Called before every read and write (a stat: microseconds)."""
        now = dir_id(self.path)
        if now == self._dir:
            return
        if now is None or not (self.path / LAYOUT_FILE).exists():
            raise IndexUnavailable(f"the search index {self.path} was moved away or deleted while open; "
                                   "put it back, or rebuild it from the store with `patrol reindex --full`")
        stamp = read_layout(self.path).get(_STAMP_KEY)
        if stamp != self._expected_stamp:
            raise IndexUnavailable(f"the search index {self.path} was replaced by one stamped "
                                   f"{stamp or '(none)'}, not {self._expected_stamp or '(none)'}; "
                                   "`patrol reindex --full` rebuilds it from the store")
        # two assignments, no lock: this runs inside writes that already hold the index's lock
        self._index = self._open_layout(read_layout(self.path).get("version", 1))  # a replacement may be newer
        self._dir = now

    # ------------------------------------------------------------------ identity

    def identity(self) -> str | None:
        """The store identity this index was stamped with (None: never stamped). IndexUnavailable
        when the directory was moved away or replaced by a foreign one."""
        self._follow_dir()
        return read_layout(self.path).get(_STAMP_KEY)

    def stamp(self, store_id: str) -> None:
        self._follow_dir()
        with self._lock:
            write_layout(self.path, {**read_layout(self.path), _STAMP_KEY: store_id})
        self._expected_stamp = store_id

    def expect_stamp(self, store_id: str | None) -> None:
        """The stamp a replacement directory must carry to be followed (set once the identity checked out)."""
        self._expected_stamp = store_id

    # ------------------------------------------------------------------ interrupted bulk loads

    def _note_bulk_load(self, running: bool) -> None:
        layout = {k: v for k, v in read_layout(self.path).items() if k != _BULK_KEY}
        write_layout(self.path, {**layout, _BULK_KEY: True} if running else layout)

    def interrupted_bulk_load(self) -> bool:
        """True when a bulk load into this index ended without its last commit (a crash, a kill):
        posts written since its last commit are missing although the store may call them
        indexed; `patrol reindex --full` rebuilds the index. False while a bulk load runs."""
        if not read_layout(self.path).get(_BULK_KEY) or getattr(self, "_bulk", None) is not None:
            return False
        try:
            probe = self._index.writer(heap_size=15_000_000, num_threads=1)
        except ValueError:  # the writer is held: the bulk load is still running in another process
            return False
        del probe
        return True

    # ------------------------------------------------------------------ removing and rebuilding

    def remove(self, post_ids: Sequence[str]) -> int:
        """Drop these posts (retention's purge); ids not in the index are ignored. Returns how many went."""
        ids = [i for i in dict.fromkeys(post_ids) if self._find(i) is not None]
        if not ids:
            return 0

        def write(writer: tantivy.IndexWriter) -> None:
            for post_id in ids:
                writer.delete_documents_by_term("id", post_id)
        self._write(write, len(ids), commit_now=True)
        return len(ids)

    def rebuild(self, batches: Iterable[Sequence[IndexedPost]], store_id: str, workers: int = 0) -> int:
        """Replace the whole content with `batches` and stamp it, in ONE commit: searches see the
        old content until the new one is complete, never a half-built index. `workers` > 0:
        segment in that many processes (search/tantivy_bulk.py); nothing is marked per batch here,
        so a batch written after the next one was queued loses nothing."""
        import time

        from search.tantivy_bulk import Pipeline, documents, prepare

        total = 0
        seq = time.time_ns()
        pipeline = Pipeline(workers, self.pairs) if workers > 0 else None

        def write(writer: tantivy.IndexWriter) -> None:
            nonlocal total

            def add(posts: Sequence[IndexedPost], fields: list[dict]) -> None:
                for doc in documents(fields, self.schema, seq):
                    writer.add_document(doc)
            writer.delete_all_documents()
            for batch in batches:
                latest = {}
                for post in batch:
                    check_post(post)
                    latest[post.id] = post
                posts = list(latest.values())
                if not posts:
                    continue
                total += len(posts)
                if pipeline is None:
                    add(posts, prepare(posts, self.segmenter, self.pairs))
                    continue
                pipeline.submit(posts)
                for done in pipeline.finished(keep=1):
                    add(*done)
            if pipeline is not None:
                for done in pipeline.finished(keep=0):
                    add(*done)
        self._follow_dir()
        try:
            self._write(write, 0, commit_now=True)
        finally:
            if pipeline is not None:
                pipeline.close()
        self.stamp(store_id)
        self._note_bulk_load(False)  # the whole content is new: nothing of an interrupted load is missing
        return total
