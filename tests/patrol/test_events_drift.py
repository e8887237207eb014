"""An event that drifted into two topics is split automatically, audited, with a trace on both
events; an event of one topic is left alone; an event an officer merged is never split again."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bench.events_corpus import make_posts
from patrol.events import drift
from patrol.events.model import Event
from patrol.events.store import BatchWrite
from patrol.events.updater import EventReport, EventUpdater
from patrol.store import Store
from patrol.store.schema import audit_log as audit
from tests.patrol.test_events_clustering import records


@pytest.fixture
def world(tmp_path):
    """A store whose word counts are warm (400 posts clustered), and 30 posts about two other
    incidents (a fire and a collapse in two towns), not clustered yet."""
    store = Store(f"sqlite:///{tmp_path / 'd.db'}", password_rounds=4)
    posts = make_posts(1200, 14, seed=5)
    now = max(p.at for p in posts) + timedelta(minutes=1)
    warm = [p for p in posts if p.incident not in (0, 2)][:400]
    two = [p for p in posts if p.incident == 0][:18] + [p for p in posts if p.incident == 2][:12]
    recs = records(warm + two, now)
    store.save_batch(recs, [], now)
    updater = EventUpdater(store.events, store.trends)
    updater.update(recs[:len(warm)], now)
    by_id = {r.id: p.incident for r, p in zip(recs, warm + two)}
    yield store, updater, recs[len(warm):], by_id, now
    store.close()


def write_as_one_event(store, updater, recs, now) -> Event:
    """The drifted state itself: every post in one event (as a bridge post would leave it)."""
    feats = sorted(updater.features(recs, now), key=lambda f: (f.at, f.post_id))
    e = Event(id="e-drifted", first_seen=feats[0].at, last_seen=feats[0].at)
    w = BatchWrite(new_ids={e.id})
    for f in feats:
        e.add(f)
        if len(e.seeds) < 8:
            e.seeds.append((f.post_id, f.signature.tobytes().hex(), " ".join(sorted(f.match))))
        w.posts.append((e.id, f))
    w.events[e.id] = e
    store.events.write_batch(w, now)
    return store.events.get_event(e.id)


def test_a_drifted_event_is_split_in_two_along_its_topics_audited_and_traced(world):
    store, updater, two, incident, now = world
    e = write_as_one_event(store, updater, two, now)
    report = EventReport()
    updater.split_if_drifted(e, now, report)
    [(kept_id, new_id)] = report.auto_splits
    assert kept_id == e.id
    kept = {r.post_id for r in store.events.event_post_rows(e.id, limit=100)}
    moved = {r.post_id for r in store.events.event_post_rows(new_id, limit=100)}
    assert len(kept) + len(moved) == 30
    # Each part is one incident: the first post's incident stays.
    assert len({incident[p] for p in kept}) == 1 and len({incident[p] for p in moved}) == 1
    assert {incident[p] for p in kept} != {incident[p] for p in moved}
    first = store.events.get_event(e.id)
    fresh = store.events.get_event(new_id)
    assert first.size == len(kept) and fresh.size == len(moved)
    assert first.trace[-1]["action"] == "auto_split" and first.trace[-1]["other"] == new_id
    assert fresh.trace[0]["action"] == "auto_split_from" and fresh.trace[0]["by"] == "system"
    assert fresh.trace[0]["between"] < drift.SPLIT_BELOW and fresh.seeds, "the new event has no seeds to be found by"
    with store.engine.connect() as conn:
        rows = conn.execute(select(audit.c.actor, audit.c.payload).where(audit.c.action == "event.auto_split")).all()
    # (the warm-up's own clustering may have split an event of its own too)
    [payload] = [json.loads(r.payload) for r in rows if json.loads(r.payload)["new_event"] == new_id]
    assert all(r.actor == "system" for r in rows) and sorted(payload["post_ids"]) == sorted(moved)


def test_an_event_of_one_topic_is_not_split(world):
    store, updater, two, incident, now = world
    e = write_as_one_event(store, updater, [r for r in two if incident[r.id] == 0], now)
    rows = store.events.event_post_rows(e.id, limit=100)
    words = [(r.post_id, list(r.words)) for r in rows]
    rarity = store.events.load_rarity({w for _p, ws in words for w in ws})
    # 18 reports of one fire, seen twice over (36 posts, above the size checked): one topic.
    doubled = words + [(p + "-again", ws) for p, ws in words]
    assert len(doubled) >= drift.MIN_SIZE
    assert drift.find_split(doubled, words[0][0], rarity.idf) is None


def test_an_event_an_officer_merged_is_never_split_automatically(world):
    store, updater, two, incident, now = world
    fire = write_as_one_event(store, updater, [r for r in two if incident[r.id] == 0], now)
    # The collapse as its own event, then the officer merges it into the fire (wrongly or not:
    # it is the officer's call).
    collapse = [r for r in two if incident[r.id] == 2]
    feats = updater.features(collapse, now)
    other = Event(id="e-collapse", first_seen=feats[0].at, last_seen=feats[0].at)
    w = BatchWrite(new_ids={other.id}, events={other.id: other})
    for f in feats:
        other.add(f)
        w.posts.append((other.id, f))
    store.events.write_batch(w, now)
    merged = store.events.merge(other.id, fire.id, "olga", now)
    assert merged.size == 30 and merged.officer_touched
    report = EventReport()
    # The ingest checks only events no officer touched; the detector alone would split it.
    rows = store.events.event_post_rows(fire.id, limit=100)
    rarity = store.events.load_rarity({w for r in rows for w in r.words})
    assert drift.find_split([(r.post_id, list(r.words)) for r in rows], "", rarity.idf) is not None
    updater.check_drift({merged.id: merged}, {merged.id: 0}, now, report)
    assert report.auto_splits == [] and store.events.get_event(fire.id).size == 30
    # The same event untouched by an officer would have been split by that very check.
    untouched = store.events.get_event(fire.id)
    untouched.trace = []
    updater.check_drift({fire.id: untouched}, {fire.id: 0}, now, report)
    assert len(report.auto_splits) == 1
