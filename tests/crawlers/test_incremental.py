"""Incremental state: marks, conditional requests, known ids, retries; and a killed pass resumes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crawlers.incremental import KNOWN_LIMIT, Incremental, time_mark
from crawlers.state import CrawlState
from patrol.store import PostRecord, Store
from tests.crawlers.fixtures.loopback import LoopbackSite
from tests.crawlers.fixtures.passes import crawl_pass, quick_settings
from tests.crawlers.fixtures.sitegen import SELECTORS, generated_site

T = datetime(2026, 11, 21, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def test_time_marks_compare_in_time_order_whatever_the_zone():
    assert time_mark(T) == "2026-11-21T01:00:00.000000+00:00"
    assert time_mark(T - timedelta(microseconds=1)) < time_mark(T) < time_mark(T.astimezone(timezone.utc) + timedelta(seconds=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        time_mark(datetime(2026, 11, 21))


def test_known_means_reached_by_the_last_finished_pass_not_by_this_one():
    inc = Incremental({"mark": time_mark(T)}, {})
    assert inc.is_known(T) and inc.is_known(T - timedelta(hours=1))
    assert not inc.is_known(T + timedelta(seconds=1)) and not inc.is_known(None)
    inc.advance(T + timedelta(hours=2))
    assert not inc.is_known(T + timedelta(hours=1))  # this pass's own mark does not hide its later pages
    inc.advance(T + timedelta(hours=1))
    assert inc.after["mark"] == time_mark(T + timedelta(hours=2))


def test_an_id_mark_never_skips_a_time_and_the_reverse():
    assert not Incremental({"mark": 500}, {}).is_known(T)
    assert not Incremental({"mark": time_mark(T)}, {}).is_known(3)
    assert Incremental({"mark": 500}, {}).is_known(499)


def test_validators_become_conditional_headers_on_the_next_pass():
    first = Incremental({}, {})
    first.remember_validators("http://x/feed", {b"ETag": b'"v7"', b"Last-Modified": b"Sat, 21 Nov 2026 01:00:00 GMT"})
    second = Incremental(first.after, {})
    assert second.conditional_headers("http://x/feed") == {
        "If-None-Match": '"v7"', "If-Modified-Since": "Sat, 21 Nov 2026 01:00:00 GMT"}
    assert second.conditional_headers("http://x/other") == {}


def test_known_ids_are_bounded_and_keep_the_most_recent():
    inc = Incremental({}, {})
    last = 2 * KNOWN_LIMIT
    for n in range(last + 1):
        inc.remember(f"id-{n}")
        inc.remember("id-0" if n < 5 else f"id-{n}")  # a repeat is not a second entry
    assert len(inc.after["known"]) == KNOWN_LIMIT and inc.after["known"][-1] == f"id-{last}"
    again = Incremental(inc.after, dict(inc.after))
    assert again.seen_before(f"id-{last}") and not again.seen_before("id-0")
    assert again.recent(2) == [f"id-{last - 1}", f"id-{last}"]


def test_failed_fetches_are_retried_next_pass_until_done():
    first = Incremental({}, {})
    first.retry_later("topic:9")
    first.retry_later("topic:10")
    second = Incremental(first.after, dict(first.after))
    assert second.pending_retries() == ["topic:9", "topic:10"]
    second.done("topic:9")
    assert second.after["retry"] == ["topic:10"]


class Interrupted(Exception):
    pass


def test_a_pass_killed_midway_resumes_next_start_without_loss_or_duplicates(tmp_path):
    site = LoopbackSite(fallback=generated_site(120))
    store = Store(f"sqlite:///{tmp_path / 'wf.db'}")
    settings = quick_settings(tmp_path, ingest_batch_size=10)
    entry = {"name": "letters", "kind": "html", "url": f"{site.base_url}/list/1.html", "selectors": SELECTORS}
    batches = []

    def ingest_then_die(batch):
        store.save_batch([PostRecord.from_raw(r) for r in batch], [], datetime.now(timezone.utc))
        batches.append(len(batch))
        if len(batches) == 3:
            raise Interrupted("operator pressed Ctrl-C")

    def ingest(batch):
        store.save_batch([PostRecord.from_raw(r) for r in batch], [], datetime.now(timezone.utc))

    try:
        with pytest.raises(Interrupted):
            crawl_pass(settings, [entry], ingest_then_die)
        assert CrawlState.open(settings).load("letters") == {}  # nothing marked as read
        assert 0 < store.counts()["posts"] < 120
        report, posts, _ = crawl_pass(settings, [entry], ingest)
    finally:
        site.stop()
    assert report.ok and len({p.external_id for p in posts}) == 120
    assert store.counts()["posts"] == 120
    assert all(len(store.post_versions(p.id)) == 1 for p in posts)  # re-read posts are unchanged, not new versions
