"""Per-source incremental state: what the last finished pass saw, so this pass fetches only what changed.

It lives in the spider's `state_before` / `state_after` dicts (crawlers.spiders.base), which the
runner persists only after the pass's posts were ingested. That ordering is what makes a killed
crawl resumable: the marks of a pass that did not finish are never written, so the next start
re-reads from the old marks, and the store's deterministic post ids turn every re-read post into
"unchanged" rather than a second post.

Keys (all JSON):
  mark        newest position seen: an int (status / post ids) or a UTC ISO time string
  validators  {url: {"etag": ..., "last_modified": ...}} for conditional requests
  known       the most recent external ids (first-read order), for kinds whose lists carry no usable order
  retry       ids or URLs whose fetch failed in the last pass, fetched again first this pass
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

# Enough to recognise a few list pages of recent items; older items fall back to the store's dedupe.
# The list is trimmed back to KNOWN_LIMIT when it reaches twice that, so it holds up to 2x.
KNOWN_LIMIT = 5000
RETRY_LIMIT = 1000


def time_mark(value: datetime) -> str:
    """A time as a mark: fixed-width UTC ISO text, so marks compare correctly as strings."""
    if value.tzinfo is None:
        raise ValueError(f"a time mark must be timezone-aware, got {value!r}")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _comparable(a: Any, b: Any) -> bool:
    return isinstance(a, int) == isinstance(b, int)


class Incremental:
    """Read the last pass's state, write this pass's, never mixing the two.

    Comparisons use `before` only: while a pass runs, responses arrive in any order, and comparing
    against marks this very pass is still raising would hide items of its own later pages.
    """

    def __init__(self, before: dict[str, Any], after: dict[str, Any]):
        self.before = before
        self.after = after
        self._known_before = set(before.get("known") or ())
        # Appended to in place (a pass may remember 20,000 ids; rebuilding the list each time is quadratic).
        self._known_list: list[str] = list(dict.fromkeys(after.get("known") or ()))
        self._known_after = set(self._known_list)
        self.after["known"] = self._known_list
        self._retry_after: dict[str, None] = dict.fromkeys(before.get("retry") or ())
        self.after["retry"] = list(self._retry_after)

    # -- the high-water mark --------------------------------------------------------------
    @property
    def mark(self) -> Any:
        return self.before.get("mark")

    def is_known(self, position: int | datetime | None) -> bool:
        """True when the last finished pass already reached this position (id or time)."""
        if position is None or self.mark is None:
            return False
        value = time_mark(position) if isinstance(position, datetime) else position
        if not _comparable(value, self.mark):
            # The source switched from ids to times (or a state file was edited): re-read, don't skip.
            return False
        return value <= self.mark

    def advance(self, position: int | datetime | None) -> None:
        if position is None:
            return
        value = time_mark(position) if isinstance(position, datetime) else position
        current = self.after.get("mark")
        if current is None or not _comparable(value, current) or value > current:
            self.after["mark"] = value

    # -- conditional requests ---------------------------------------------------------------
    def conditional_headers(self, url: str) -> dict[str, str]:
        saved = (self.before.get("validators") or {}).get(url) or {}
        headers = {}
        if saved.get("etag"):
            headers["If-None-Match"] = saved["etag"]
        if saved.get("last_modified"):
            headers["If-Modified-Since"] = saved["last_modified"]
        return headers

    def remember_validators(self, url: str, response_headers) -> None:
        """Keep ETag / Last-Modified of a 200 so the next pass can ask "changed since?"."""
        entry = {}
        for header, key in ((b"ETag", "etag"), (b"Last-Modified", "last_modified")):
            value = response_headers.get(header)
            if value:
                entry[key] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        validators = self.after.setdefault("validators", {})
        if entry:
            validators[url] = entry
        else:
            validators.pop(url, None)

    # -- known ids, for unordered lists -----------------------------------------------------
    def seen_before(self, external_id: str) -> bool:
        return external_id in self._known_before

    def recent(self, n: int) -> list[str]:
        """The n ids most recently read before this pass, newest last."""
        known = list(self.before.get("known") or ())
        return known[-n:] if n > 0 else []

    def remember(self, external_id: str) -> None:
        if external_id in self._known_after:
            return
        self._known_list.append(external_id)
        self._known_after.add(external_id)
        if len(self._known_list) > 2 * KNOWN_LIMIT:
            self._trim()

    def _trim(self) -> None:
        dropped = self._known_list[:-KNOWN_LIMIT]
        del self._known_list[:-KNOWN_LIMIT]
        self._known_after.difference_update(dropped)

    # -- failed fetches, retried next pass --------------------------------------------------
    def pending_retries(self) -> list[str]:
        return list(self.before.get("retry") or ())

    def retry_later(self, key: str) -> None:
        self._retry_after.pop(key, None)
        self._retry_after[key] = None
        while len(self._retry_after) > RETRY_LIMIT:
            del self._retry_after[next(iter(self._retry_after))]
        self.after["retry"] = list(self._retry_after)

    def done(self, keys: Iterable[str] | str) -> None:
        removed = [key for key in ([keys] if isinstance(keys, str) else keys) if self._retry_after.pop(key, 0) is None]
        if removed:
            self.after["retry"] = list(self._retry_after)
