import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from patrol.audit import GENESIS_HASH, AuditError, compute_hash, next_event, verify_chain
from patrol.reviews import Decision

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)


def chain(n=5):
    events, seq, prev = [], 0, GENESIS_HASH
    for i in range(n):
        ev = next_event(seq, prev, T0 + timedelta(seconds=i), "li", "alert.claimed", f"alert:a{i}", {"i": i})
        events.append(ev)
        seq, prev = ev.seq, ev.hash
    return events


# --- the chain as values ------------------------------------------------------------------

def test_chain_starts_at_seq_1_after_the_genesis_hash():
    first = chain(1)[0]
    assert first.seq == 1 and first.prev_hash == "0" * 64 and len(first.hash) == 64


def test_hash_covers_every_field():
    ev = chain(1)[0]
    base = compute_hash(ev.seq, ev.at, ev.actor, ev.action, ev.subject, ev.payload, ev.prev_hash)
    assert base == ev.hash
    variants = [
        (2, ev.at, ev.actor, ev.action, ev.subject, ev.payload, ev.prev_hash),
        (ev.seq, "2026-11-24T08:00:01.000000+00:00", ev.actor, ev.action, ev.subject, ev.payload, ev.prev_hash),
        (ev.seq, ev.at, "wang", ev.action, ev.subject, ev.payload, ev.prev_hash),
        (ev.seq, ev.at, ev.actor, "alert.released", ev.subject, ev.payload, ev.prev_hash),
        (ev.seq, ev.at, ev.actor, ev.action, "alert:other", ev.payload, ev.prev_hash),
        (ev.seq, ev.at, ev.actor, ev.action, ev.subject, {"i": 1}, ev.prev_hash),
        (ev.seq, ev.at, ev.actor, ev.action, ev.subject, ev.payload, "1" * 64),
    ]
    assert len({compute_hash(*v) for v in variants} | {base}) == len(variants) + 1


def test_hash_does_not_depend_on_payload_key_order():
    a = compute_hash(1, "t", "li", "alert.claimed", "s", {"a": 1, "b": [1, "二"]}, GENESIS_HASH)
    b = compute_hash(1, "t", "li", "alert.claimed", "s", {"b": [1, "二"], "a": 1}, GENESIS_HASH)
    assert a == b


def test_intact_chain_verifies():
    result = verify_chain(chain(5))
    assert result.ok and result.checked == 5 and result.first_bad_seq is None


def test_edited_payload_is_reported_at_its_seq():
    events = chain(5)
    events[2] = dataclasses.replace(events[2], payload={"i": 99})
    result = verify_chain(events)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 3, 2)
    assert "hash" in result.reason


def test_removed_event_is_reported_as_a_gap():
    events = chain(5)
    del events[1]
    result = verify_chain(events)
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "missing" in result.reason


def test_rehashed_forgery_is_caught_by_the_next_events_link():
    events = chain(4)
    ev = events[1]
    forged_payload = {"i": "forged"}
    forged = dataclasses.replace(ev, payload=forged_payload, hash=compute_hash(
        ev.seq, ev.at, ev.actor, ev.action, ev.subject, forged_payload, ev.prev_hash))
    events[1] = forged
    result = verify_chain(events)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "prev_hash" in result.reason


def test_unknown_actions_and_non_json_payloads_are_refused():
    with pytest.raises(AuditError, match="unknown audit action"):
        next_event(0, GENESIS_HASH, T0, "li", "alert.deleted", "alert:a", {})
    with pytest.raises(AuditError, match="plain JSON"):
        next_event(0, GENESIS_HASH, T0, "li", "alert.claimed", "alert:a", {"when": T0})
    with pytest.raises(AuditError, match="timezone-aware"):
        next_event(0, GENESIS_HASH, T0.replace(tzinfo=None), "li", "alert.claimed", "alert:a", {})


# --- the chain in the store ---------------------------------------------------------------

def busy_store(store, people, make, rules):
    _, alert = make.post_with_alert(store, rules)
    store.claim(alert.id, people["li"], make.now)
    store.add_note(alert.id, people["li"], "checked the seller's other posts", make.now)
    store.decide(alert.id, Decision("confirm", disposition="reported"), people["li"], make.now)
    store.record_event("li", "search.performed", "search", {"q": "冰 同城"}, make.now)
    return alert


def test_every_change_leaves_an_audit_event_and_the_chain_verifies(store, people, make, rules):
    alert = busy_store(store, people, make, rules)
    actions = [e.action for e in store.audit_events(limit=100)]
    assert actions == ["user.added"] * 5 + ["alert.opened", "alert.claimed", "alert.note_added",
                                            "alert.decided", "search.performed"]
    history = store.get_alert(alert.id).history
    assert [e.action for e in history] == ["alert.opened", "alert.claimed", "alert.note_added", "alert.decided"]
    assert history[-1].payload["disposition"] == "reported" and history[-1].actor == "li"
    assert store.verify_audit().ok and store.verify_audit().checked == 10


def _raw_sql(store, *statements):
    with store.engine.begin() as conn:
        for s in statements:
            conn.execute(sa.text(s))


def _drop_append_only_guard(store):
    # The database itself refuses rewrites; an attacker with raw access would drop the guard first.
    if store.dialect == "sqlite":
        _raw_sql(store, "DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete")
    else:
        _raw_sql(store, "DROP TRIGGER audit_append_only ON audit")


def test_database_refuses_to_rewrite_the_audit_trail(store, people):
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        _raw_sql(store, "UPDATE audit SET actor = 'nobody' WHERE seq = 1")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        _raw_sql(store, "DELETE FROM audit WHERE seq = 1")
    assert store.verify_audit().ok


def test_payload_edited_by_raw_sql_is_reported_at_its_seq(store, people, make, rules):
    busy_store(store, people, make, rules)
    _drop_append_only_guard(store)
    _raw_sql(store, """UPDATE audit SET payload = '{"action":"dismiss","reason":"false_positive"}' WHERE seq = 9""")
    result = store.verify_audit()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 9, 8)


def test_event_deleted_from_the_middle_is_reported(store, people, make, rules):
    busy_store(store, people, make, rules)
    _drop_append_only_guard(store)
    _raw_sql(store, "DELETE FROM audit WHERE seq = 7")
    assert store.verify_audit().first_bad_seq == 7


def test_events_cut_off_the_end_are_reported(store, people, make, rules):
    busy_store(store, people, make, rules)
    _drop_append_only_guard(store)
    _raw_sql(store, "DELETE FROM audit WHERE seq >= 9")
    result = store.verify_audit()
    assert (result.ok, result.first_bad_seq) == (False, 9)
    assert "head records seq 10" in result.reason


def test_audit_events_page_and_filter(store, people, make, rules):
    busy_store(store, people, make, rules)
    first = store.audit_events(limit=3)
    assert [e.seq for e in first] == [1, 2, 3]
    assert [e.seq for e in store.audit_events(after_seq=3, limit=2)] == [4, 5]
    assert [e.action for e in store.audit_events(actor="li")] == [
        "alert.claimed", "alert.note_added", "alert.decided", "search.performed"]
    searches = store.audit_events(action="search.performed")
    assert len(searches) == 1 and searches[0].payload == {"q": "冰 同城"}
