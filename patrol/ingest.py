"""The ingest step: RawPost → analyse → store (+ alerts) → index, one call per batch.

Order matters for "no post lost, none counted twice":
1. the store decides what is new, edited, unchanged or deleted (by post id and a hash of title+text);
2. only new and edited posts are analysed;
3. posts and their alerts are written in ONE transaction (the store enforces one alert per post);
4. the index is written last. If it is down, the posts stay marked unindexed in the store and the
   next ingest (or `patrol reindex`) writes them: the index is derived, the store is the record.

A bulk load (`patrol ingest FILE`) runs inside `Ingestor.deferred_index()`: the index is written
every `every` posts instead of every batch, because each index write is a commit that syncs its
files (a tenth of a second), and the posts are marked indexed only after that write. A crash in
between leaves them stored and unmarked, and the next ingest or `patrol reindex` writes them.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator, Sequence

from patrol.alerts import evaluate_rules
from patrol.posts import RawPost, analysed_text
from patrol.store import PostRecord
from patrol.threads import helper_labels, load_thread_rules
from search.index import IndexedPost, IndexUnavailable

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class IngestReport:
    received: int = 0
    new: int = 0
    edited: int = 0
    unchanged: int = 0
    deleted: int = 0
    duplicates_in_batch: int = 0
    alerts_opened: int = 0
    indexed: int = 0
    index_pending: int = 0
    alerts_by_category: Counter = field(default_factory=Counter)
    events: object = None   # patrol.events.updater.EventReport, when the ingest updates events

    def merge(self, other: "IngestReport") -> "IngestReport":
        for name in ("received", "new", "edited", "unchanged", "deleted", "duplicates_in_batch",
                     "alerts_opened", "indexed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.index_pending = other.index_pending  # a level, not a sum
        self.alerts_by_category.update(other.alerts_by_category)
        return self

    def summary(self) -> str:
        cats = ", ".join(f"{k} {v}" for k, v in sorted(self.alerts_by_category.items())) or "none"
        text = (f"{self.received} received: {self.new} new, {self.edited} edited, {self.unchanged} unchanged, "
                f"{self.deleted} deleted upstream; {self.alerts_opened} alert(s) opened ({cats}); "
                f"{self.indexed} indexed")
        if self.index_pending:
            text += f"; {self.index_pending} waiting for the index (run `patrol reindex` when it is back)"
        return text


def to_indexed(p: PostRecord, status: str = "") -> IndexedPost:
    """The post for the index, with the analyzer's normalised text so that searching the real word
    finds an evasive spelling (博彩 finds 菠.菜), and the map of what changed, so the console can
    highlight the original spelling. The map is rebuilt from the trail and checked against the
    normalised text; if they disagree, the text is still searchable but the map is left out."""
    original = analysed_text(p.title, p.text)
    normalised = str((p.analysis or {}).get("normalised") or "")
    spans: list[tuple[int, int, int, int]] = []
    if normalised == original:
        normalised = ""
    if normalised:
        # Trail steps are non-overlapping spans of the original ("truncated" included: it drops the
        # tail the analyzer never saw); "error" steps change nothing.
        steps = sorted(((int(t["start"]), int(t["end"]), str(t["replacement"]))
                        for t in (p.analysis or {}).get("trail") or () if t.get("kind") != "error"))
        rebuilt, shift, at = [], 0, 0
        for start, end, replacement in steps:
            if start < at:
                spans, rebuilt = [], None
                break
            spans.append((start + shift, start + shift + len(replacement), start, end))
            rebuilt += [original[at:start], replacement]
            shift += len(replacement) - (end - start)
            at = end
        if rebuilt is None or "".join(rebuilt) + original[at:] != normalised:
            spans = []
    return IndexedPost(
        id=p.id, source=p.source, url=p.url, title=p.title, text=p.text, author=p.author,
        published_at=p.published_at or p.fetched_at, fetched_at=p.fetched_at,
        primary=p.primary or "none", categories=tuple(p.labels), status=status,
        normalised=normalised, normalised_spans=tuple(spans),
    )


class Ingestor:
    def __init__(self, store, index, analyzer, rules, clock: Callable[[], datetime] = _utcnow,
                 thread_rules=None, events=None):
        self.store = store
        self.events = events  # patrol.events.updater.EventUpdater, or None
        self.index = index
        self.analyzer = analyzer
        self.rules = rules
        self.clock = clock
        self.thread_rules = load_thread_rules() if thread_rules is None else thread_rules
        self._deferred: list[str] | None = None  # stored, not yet indexed, inside deferred_index()
        self._index_every = 0

    @contextmanager
    def deferred_index(self, every: int = 4096) -> Iterator[IngestReport]:
        """Index every `every` stored posts rather than every batch, and at the end everything the
        store still holds unindexed (leftovers of an earlier crash or outage included). The report
        yielded receives the counts of the writes made when the block ends; a block left by an
        error writes nothing more (the stored posts stay unmarked for the next run)."""
        if self._deferred is not None:
            raise RuntimeError("deferred_index() is already open")
        self._deferred, self._index_every = [], every
        tail = IngestReport()
        try:
            yield tail
        except BaseException:
            # Stopped (store down, Ctrl-C): what was stored stays unmarked, for the next run.
            self._deferred = None
            raise
        ids, self._deferred = self._deferred, None
        tail.indexed, tail.index_pending = self._index(ids, drain=True)

    def ingest(self, raws: Sequence[RawPost]) -> IngestReport:
        report = IngestReport(received=len(raws))
        # Within one batch the last copy of a post wins; earlier copies are repeats, not posts.
        latest: dict[str, RawPost] = {}
        for raw in raws:
            latest[raw.id] = raw
        report.duplicates_in_batch = len(raws) - len(latest)
        batch = list(latest.values())
        if not batch:
            return report
        now = self.clock()
        changes = self.store.classify_changes(batch)
        to_analyse = [r for r, c in zip(batch, changes) if c in ("new", "edited")]
        deleted = [r for r, c in zip(batch, changes) if c == "deleted"]
        unchanged = [r for r, c in zip(batch, changes) if c == "unchanged"]
        analyses = self.analyzer.analyse_batch([analysed_text(r.title, r.text) for r in to_analyse])
        records, alerts = [], []
        parents = self._parent_labels(to_analyse, analyses)
        for raw, analysis in zip(to_analyse, analyses):
            records.append(PostRecord.from_raw(raw, analysis))
            if raw.parent_id in parents:
                # A reply is judged by its own words, minus what it earned only by helping.
                dropped = helper_labels(analysis.normalised or analysed_text(raw.title, raw.text),
                                        parents[raw.parent_id], self.thread_rules)
                if dropped:
                    analysis = replace(analysis, labels=tuple(x for x in analysis.labels if x not in dropped))
            alert = evaluate_rules(raw, analysis, self.rules, now)
            if alert is not None:
                alerts.append(alert)
        # Deleted and unchanged posts are passed on so the store records the fetch / the deletion.
        records += [PostRecord.from_raw(r) for r in deleted]
        records += [PostRecord.from_raw(r) for r in unchanged]
        saved = self.store.save_batch(records, alerts, now)
        report.new = len(saved.new_post_ids)
        report.edited = len(saved.edited_post_ids)
        report.unchanged = len(saved.unchanged_post_ids)
        report.deleted = len(saved.deleted_post_ids)
        report.alerts_opened = len(saved.opened_alert_ids)
        opened = set(saved.opened_alert_ids)
        report.alerts_by_category.update(a.category for a in alerts if a.id in opened)
        if self._deferred is None:
            report.indexed, report.index_pending = self._index(saved.changed_post_ids)
        else:
            self._deferred += saved.changed_post_ids
            if len(self._deferred) >= self._index_every:
                ids, self._deferred = self._deferred, []
                report.indexed, report.index_pending = self._index(ids)
        if self.events is not None:
            # The event views are derived too: new posts join or start events after they are stored.
            new = set(saved.new_post_ids)
            try:
                report.events = self.events.update([r for r in records if r.id in new], now)
            except Exception:   # the posts are stored and indexed; a failed view must not undo that
                log.exception("event views not updated for %d new post(s); the posts are stored", len(new))
        return report

    def _parent_labels(self, raws: Sequence[RawPost], analyses) -> dict[str, tuple[str, ...]]:
        """parent post id -> its labels, for the replies among `raws` (parents in this batch or stored)."""
        wanted = {r.parent_id for r in raws if r.parent_id}
        if not wanted:
            return {}
        found = {r.id: tuple(a.labels) for r, a in zip(raws, analyses) if r.id in wanted}
        missing = [i for i in wanted if i not in found]
        if missing:
            found.update((p.id, tuple(p.labels)) for p in self.store.get_posts(missing))
        return found

    def _index(self, post_ids: Sequence[str], drain: bool = False) -> tuple[int, int]:
        """Index these posts plus any left over from an earlier outage (all of them when `drain`);
        returns (indexed, pending)."""
        ids = list(dict.fromkeys(list(post_ids) + self.store.unindexed_post_ids(limit=1000)))
        done = 0
        try:
            while ids:
                done += self._write_index(ids)
                if not drain:
                    break
                # A post edited by another process between the read and the mark stays unmarked
                # and comes back once with its new version; the same ids twice means stop.
                ids, before = self.store.unindexed_post_ids(limit=1000), ids
                if ids == before:
                    break
            return done, 0
        except IndexUnavailable as exc:
            log.warning("index unavailable, %d post(s) kept for reindexing: %s", len(ids), exc)
            return done, len(ids)

    def _write_index(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        posts = self.store.get_posts(ids)
        # One query for the alert statuses (the index filters on them), not one per post.
        statuses = self.store.alert_statuses([p.id for p in posts])
        self.index.add([to_indexed(p, statuses.get(p.id, "")) for p in posts])
        self.store.mark_indexed(posts)  # records, not ids: a post edited meanwhile stays unindexed
        return len(posts)

    def reindex_pending(self, on_progress: Callable[[int], None] | None = None) -> int:
        """Index every post the store holds as unindexed; IndexUnavailable (saying why) while the
        index is down, the posts staying marked. `on_progress(n)` after each batch of n posts."""
        total = 0
        while True:
            ids = self.store.unindexed_post_ids(limit=1000)
            if not ids:
                return total
            done = self._write_index(ids)
            total += done
            if on_progress is not None:
                on_progress(done)


def _parse_time(value, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
        dt.astimezone(timezone.utc)  # the store keeps UTC: 0001-01-01T00:00+08:00 has none
    except (ValueError, OverflowError):
        raise ValueError(f"{where}: published_at {value!r} is not an ISO 8601 time within the years 1-9999") from None
    return dt


MAX_SOURCE_CHARS = 200  # the store's source column


def read_jsonl_posts(lines: Iterable[tuple[int, str]], name: str,
                     on_error: Callable[[str], None]) -> Iterator[RawPost]:
    """Posts from another collector (`patrol ingest FILE`, README). A bad line is reported with
    its number and skipped."""
    from patrol.posts import sha256_hex

    for lineno, line in lines:
        where = f"{name}:{lineno}"
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError(f"{where}: a line must be a JSON object")
            missing = [k for k in ("source", "url", "text") if not isinstance(obj.get(k), str) or not obj.get(k)]
            if missing:
                raise ValueError(f"{where}: missing or empty field(s): {', '.join(missing)}")
            if len(obj["source"]) > MAX_SOURCE_CHARS:
                raise ValueError(f"{where}: source is longer than {MAX_SOURCE_CHARS} characters")
            yield RawPost(
                source=obj["source"], url=obj["url"], external_id=str(obj.get("external_id") or obj["url"]),
                text=obj["text"], title=str(obj.get("title") or ""), author=str(obj.get("author") or ""),
                published_at=_parse_time(obj.get("published_at"), where),
                content_sha256=sha256_hex(line.strip().encode("utf-8")),
                # The line is what was "fetched": kept so its hash can be re-checked.
                page_body=line.strip().encode("utf-8"),
                thread_id=str(obj.get("thread_id") or ""),
                parent_external_id=str(obj.get("parent_external_id") or ""),
            )
        except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested thousands deep
            msg = str(exc) if str(exc).startswith(name) else f"{where}: not JSON ({exc})"
            on_error(f"{msg}; skipped")
