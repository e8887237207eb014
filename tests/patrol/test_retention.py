"""Retention on a real database (SQLite, and PostgreSQL when configured) and a real SQLite index."""
from __future__ import annotations

from datetime import timedelta

import pytest

from patrol.alerts import evaluate_rules
from patrol.ingest import to_indexed
from patrol.retention import run_retention
from patrol.reviews import Decision
from patrol.settings import RetentionSettings
from search.index import SearchQuery
from search.sqlite_index import SqliteIndex

DAYS = 30


@pytest.fixture
def index(tmp_path):
    idx = SqliteIndex(tmp_path / "index.sqlite")
    yield idx
    idx.close()


def save(store, index, make, rules, external_id, age_days, *, alert=False, text="今天天气很好", edits=0):
    when = make.now - timedelta(days=age_days)
    raw = make.raw(external_id, text=text, fetched_at=when)
    an = make.analysis("drugs") if alert else make.analysis()
    found = evaluate_rules(raw, an, rules, when) if alert else None
    store.save_batch([make.record(raw, an)], [found] if found else [], when)
    for i in range(edits):  # later versions of the same post
        raw = make.raw(external_id, text=f"{text} 改{i}", fetched_at=when, content_sha256=f"{i:064x}")
        store.save_batch([make.record(raw, an)], [], when)
    post = store.get_post(raw.id)
    index.add([to_indexed(post)])
    store.mark_indexed([post])
    return raw.id, found


def test_old_posts_without_alert_go_from_store_and_index_alerted_ones_stay(store, make, rules, index, people):
    old_plain, _ = save(store, index, make, rules, "old-plain", 40, edits=2)
    new_plain, _ = save(store, index, make, rules, "new-plain", 5)
    old_alerted, alert = save(store, index, make, rules, "old-alerted", 90, alert=True, text="出冰，同城面交")
    store.claim(alert.id, people["li"], make.now)
    store.decide(alert.id, Decision("confirm", disposition="reported"), people["li"], make.now)

    (result,) = run_retention(store, index, RetentionSettings(posts_without_alert_days=DAYS, pages_days=0), make.now)
    assert (result.name, result.counts["posts"], result.counts["versions"]) == ("posts_without_alert", 1, 3)
    assert store.get_post(old_plain) is None and store.post_versions(old_plain) == []
    assert index.get(old_plain) is None
    assert store.get_post(new_plain) is not None and index.get(new_plain) is not None
    # The confirmed alert's evidence: the post, its versions, the alert's frozen copy.
    assert store.get_post(old_alerted) is not None and store.post_versions(old_alerted)
    assert store.get_alert(alert.id).alert.text == "出冰，同城面交"
    (event,) = store.audit_events(action="retention.purged")
    assert (event.actor, event.subject) == ("system", "retention:posts_without_alert")
    assert event.payload["posts"] == 1 and event.payload["versions"] == 3 and event.payload["days"] == DAYS
    assert store.verify_audit().ok
    assert index.search(SearchQuery(q="天气", limit=10)).total == 1


def test_a_period_of_zero_keeps_everything_and_records_nothing(store, make, rules, index):
    save(store, index, make, rules, "ancient", 3000)
    assert run_retention(store, index, RetentionSettings(posts_without_alert_days=0, pages_days=0), make.now) == []
    assert store.counts()["posts"] == 1 and not store.audit_events(action="retention.purged")


def test_an_index_that_is_down_stops_the_purge_and_nothing_is_lost(store, make, rules, index, tmp_path):
    pid, _ = save(store, index, make, rules, "old", 40)
    index.path.rename(tmp_path / "moved-away.sqlite")  # the real index, gone from its path

    (result,) = run_retention(store, index, RetentionSettings(posts_without_alert_days=DAYS, pages_days=0), make.now)
    assert result.counts["posts"] == 0 and "moved away" in result.counts["stopped"]
    assert store.get_post(pid) is not None
    assert store.audit_events(action="retention.purged")[0].payload["stopped"]


def test_a_post_that_got_an_alert_after_it_was_picked_is_kept_and_marked_for_reindexing(store, make, rules, index):
    pid, _ = save(store, index, make, rules, "late", 40)
    cutoff = make.now - timedelta(days=DAYS)
    assert store.purgeable_post_ids(cutoff) == [pid]
    raw = make.raw("late", text="今天天气很好", fetched_at=make.now - timedelta(days=40))
    alert = evaluate_rules(raw, make.analysis("drugs"), rules, make.now)
    store.save_batch([make.record(raw, make.analysis("drugs"))], [alert], make.now)
    index.remove([pid])
    assert store.purge_posts([pid], cutoff) == {"posts": 0, "versions": 0}
    assert store.get_post(pid) is not None and pid in store.unindexed_post_ids()


def test_a_labelled_post_is_kept_as_training_data_and_an_unlabelled_sampled_one_goes(store, make, rules, index, people):
    labelled, _ = save(store, index, make, rules, "old-labelled", 40)
    sampled, _ = save(store, index, make, rules, "old-sampled", 40, text="今天天气很好 2")
    day = (make.now - timedelta(days=40)).date()
    drawn = store.draw_recall_sample(day, 10, make.now, seed=1)
    assert {p.post_id for p in drawn} == {labelled, sampled}
    store.label_post(labelled, "none", "li", make.now, origin="recall_sample")
    (result,) = run_retention(store, index, RetentionSettings(posts_without_alert_days=DAYS, pages_days=0), make.now)
    assert result.counts["posts"] == 1
    assert store.get_post(labelled) is not None and store.get_post(sampled) is None
    assert [r["id"] for r in store.training_labels().rows] == [f"officer_decisions:{labelled}"]
    assert store.recall_queue() == []




def test_fetched_pages_are_a_retention_step_of_their_own(tmp_path):
    """The page purge (patrol.evidence.purge_pages, tested with kept pages in
    test_threads_and_evidence.py) runs as its own audited step; the posts' step is off here."""
    from datetime import datetime, timezone

    from patrol.store import Store

    store = Store(f"sqlite:///{tmp_path / 'p.db'}", password_rounds=4)
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    (result,) = run_retention(store, None, RetentionSettings(posts_without_alert_days=0, pages_days=30), now)
    assert result.name == "fetched_pages" and result.counts == {"pages": 0, "days": 30}
    assert store.audit_events(action="retention.purged")[-1].payload == {"step": "fetched_pages", "pages": 0, "days": 30}
    store.close()
