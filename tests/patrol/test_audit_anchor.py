"""The keyed audit chain and its checkpoints outside the database: what someone who can write the
database (but holds neither the key nor the checkpoint file) can no longer do unseen: rewrite the
chain consistently, truncate it, empty it. Runs on SQLite and on PostgreSQL."""
from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
import sqlalchemy as sa

from patrol.audit import EMPTIED, NO_KEY, REWRITTEN, TRUNCATED, WRONG_KEY, compute_hash
from patrol.audit_anchor import ChainBroken, take_checkpoint, verify
from patrol.audit_key import AuditKey, AuditKeyError, load_audit_key
from patrol.checkpoints import CheckpointError, CheckpointLog
from patrol.store import Store

KEY = AuditKey(b"k" * 32, "test")
OTHER_KEY = AuditKey(b"o" * 32, "other")


@pytest.fixture
def keyed(db_url):
    s = Store(db_url, password_rounds=4, audit_key=KEY)
    yield s
    s.close()


@pytest.fixture
def log(tmp_path):
    return CheckpointLog(tmp_path / "checkpoints.jsonl", KEY)


def fill(store, make, n=6):
    for i in range(n):
        store.record_event("li", "search.performed", "search", {"q": f"冰 {i}"}, make.now + timedelta(seconds=i))


def raw(store, *statements):
    with store.engine.begin() as conn:
        for s in statements:
            conn.execute(sa.text(s))


def drop_guard(store):
    # An attacker with raw write access drops the append-only trigger first.
    if store.dialect == "sqlite":
        raw(store, "DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete")
    else:
        raw(store, "DROP TRIGGER audit_append_only ON audit")


def rewrite_consistently(store, key: bytes | None = None, **head):
    """Re-hash every event (payloads changed) as an attacker without the audit key would: plain
    SHA-256 or a key of their own, every link consistent, the head row updated to match."""
    drop_guard(store)
    with store.engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT seq, at, actor, action, subject, payload FROM audit ORDER BY seq")).all()
        prev = "0" * 64
        for r in rows:
            payload = {"q": "nothing to see"}
            h = compute_hash(r.seq, r.at, r.actor, r.action, r.subject, payload, prev, key)
            conn.execute(sa.text("UPDATE audit SET payload = :p, prev_hash = :ph, hash = :h WHERE seq = :s"),
                         {"p": json.dumps(payload), "ph": prev, "h": h, "s": r.seq})
            prev = h
        sets = ", ".join(f"{k} = :{k}" for k in head)
        conn.execute(sa.text(f"UPDATE audit_head SET seq = :seq, hash = :hash{', ' + sets if sets else ''} WHERE id = 1"),
                     {"seq": rows[-1].seq, "hash": prev, **head})


def test_a_keyed_chain_verifies_and_is_hmac_not_sha256(keyed, make, log):
    fill(keyed, make)
    first = keyed.audit_events(limit=1)[0]
    assert first.hash == compute_hash(first.seq, first.at, first.actor, first.action, first.subject,
                                      first.payload, first.prev_hash, KEY.secret)
    assert first.hash != compute_hash(first.seq, first.at, first.actor, first.action, first.subject,
                                      first.payload, first.prev_hash)
    take_checkpoint(keyed, log)
    v = verify(keyed, log)
    assert (v.ok, v.checked, v.keyed, v.checkpoint_seq) == (True, 6, True, 6)


def test_consistent_rewrite_without_the_key_is_caught_even_with_the_head_fixed(keyed, make, log):
    fill(keyed, make)
    take_checkpoint(keyed, log)
    rewrite_consistently(keyed)  # SHA-256, every link and the head row consistent
    v = verify(keyed, None)  # the key alone catches it, before any checkpoint is consulted
    assert (v.ok, v.problem, v.first_bad_seq) == (False, REWRITTEN, 1)
    assert "without the audit key" in v.reason


def test_rewrite_that_also_unkeys_the_head_is_caught_against_the_checkpoint(keyed, make, log):
    fill(keyed, make)
    take_checkpoint(keyed, log)
    rewrite_consistently(keyed, key_id=None, keyed_from=None)  # now it looks like an old unkeyed chain
    v = verify(keyed, log)
    assert (v.ok, v.problem) == (False, REWRITTEN)
    assert "keying was rewritten" in v.reason


def test_rewrite_with_another_key_is_caught(keyed, make, log):
    fill(keyed, make)
    take_checkpoint(keyed, log)
    rewrite_consistently(keyed, key=OTHER_KEY.secret)
    v = verify(keyed, log)
    assert (v.ok, v.problem, v.first_bad_seq) == (False, REWRITTEN, 1)


def test_truncation_with_the_head_moved_back_is_reported_against_the_checkpoint(keyed, make, log):
    fill(keyed, make)
    take_checkpoint(keyed, log)
    drop_guard(keyed)
    head = keyed.audit_events(limit=4)[-1]
    raw(keyed, "DELETE FROM audit WHERE seq > 4",
        f"UPDATE audit_head SET seq = 4, hash = '{head.hash}' WHERE id = 1")
    assert keyed.verify_audit().ok  # the database alone cannot tell: the rest is a valid chain
    v = verify(keyed, log)
    assert (v.ok, v.problem, v.first_bad_seq) == (False, TRUNCATED, 5)
    assert "events 5-6 were cut off" in v.reason


def test_emptying_with_the_head_reset_is_reported_as_emptied(keyed, make, log):
    fill(keyed, make)
    take_checkpoint(keyed, log)
    drop_guard(keyed)
    raw(keyed, "DELETE FROM audit", f"UPDATE audit_head SET seq = 0, hash = '{'0' * 64}' WHERE id = 1")
    assert keyed.verify_audit().ok
    v = verify(keyed, log)
    assert (v.ok, v.problem, v.checked) == (False, EMPTIED, 0)
    assert "emptied" in v.reason and "6 event(s)" in v.reason


def test_events_appended_after_the_checkpoint_still_verify(keyed, make, log):
    fill(keyed, make, 3)
    take_checkpoint(keyed, log)
    fill(keyed, make, 2)
    v = verify(keyed, log)
    assert (v.ok, v.checked, v.checkpoint_seq) == (True, 5, 3)


def test_a_broken_chain_gets_no_checkpoint(keyed, make, log):
    fill(keyed, make)
    take_checkpoint(keyed, log)
    drop_guard(keyed)
    raw(keyed, """UPDATE audit SET payload = '{"q":"x"}' WHERE seq = 2""")
    with pytest.raises(ChainBroken, match="event 2"):
        take_checkpoint(keyed, log)
    assert len(log.read()) == 1


def test_wrong_key_and_no_key_are_named_not_called_a_rewrite(db_url, keyed, make, log):
    fill(keyed, make, 2)
    take_checkpoint(keyed, log)
    for key_chain in (True, False):
        with pytest.raises(ValueError, match="keyed with key"):
            Store(db_url, password_rounds=4, audit_key=OTHER_KEY, key_chain=key_chain)
    v = verify(keyed, CheckpointLog(log.path, OTHER_KEY))
    assert (v.ok, v.problem) == (False, WRONG_KEY) and "signed with audit key" in v.reason
    keyless = Store(db_url, password_rounds=4)
    assert keyless.verify_audit().problem == NO_KEY
    with pytest.raises(ValueError, match="has no audit key"):
        keyless.record_event("li", "search.performed", "search", {}, make.now)
    assert keyed.verify_audit().ok and keyed.verify_audit().checked == 2
    keyless.close()


def test_an_unkeyed_chain_is_keyed_after_its_last_event_and_stays_verifiable(db_url, make, log):
    legacy = Store(db_url, password_rounds=4)  # a chain written before the key existed
    fill(legacy, make, 3)
    legacy.close()
    store = Store(db_url, password_rounds=4, audit_key=KEY)
    fill(store, make, 2)
    events = store.audit_events(limit=10)
    assert [e.action for e in events] == ["search.performed"] * 3 + ["audit.keyed"] + ["search.performed"] * 2
    assert events[3].payload["legacy_events"] == 3 and store.audit_head()[2] == 4
    take_checkpoint(store, log)
    assert verify(store, log).ok and verify(store, log).checked == 6
    # Moving the boundary up (to rewrite keyed events as plain SHA-256) is caught.
    rewrite_consistently(store, keyed_from=6)
    v = verify(store, None)
    assert (v.ok, v.problem) == (False, REWRITTEN)
    store.close()


def test_checkpoint_file_lines_are_signed_and_linked(keyed, make, log):
    for _ in range(3):
        fill(keyed, make, 1)
        take_checkpoint(keyed, log)
    lines = log.path.read_text().splitlines()
    forged = json.loads(lines[1])
    forged["seq"] = 99
    log.path.write_text("\n".join([lines[0], json.dumps(forged), lines[2]]) + "\n")
    with pytest.raises(CheckpointError, match=":2: the signature does not match"):
        log.read()
    log.path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    with pytest.raises(CheckpointError, match=":2: does not follow"):
        log.read()
    assert not verify(keyed, log).ok
    with pytest.raises(CheckpointError, match="signed with audit key"):
        CheckpointLog(log.path, OTHER_KEY).read()


def test_checkpoints_of_another_database_are_not_accepted(tmp_path, make, log):
    a = Store(f"sqlite:///{tmp_path / 'a.db'}", password_rounds=4, audit_key=KEY)
    b = Store(f"sqlite:///{tmp_path / 'b.db'}", password_rounds=4, audit_key=KEY)
    take_checkpoint(a, log)
    v = verify(b, log)
    assert not v.ok and "belong to store" in v.reason
    a.close()
    b.close()


def test_the_key_file_is_created_owner_only_and_refused_when_others_can_read_it(tmp_path):
    key = load_audit_key(tmp_path)
    path = tmp_path / "audit.key"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_audit_key(tmp_path).key_id == key.key_id  # the same key on the next start
    os.chmod(path, 0o644)
    with pytest.raises(AuditKeyError, match="chmod 600"):
        load_audit_key(tmp_path)
    from_env = load_audit_key(tmp_path / "elsewhere", "a-long-secret-from-the-vault")
    assert from_env.origin == "PATROL_AUDIT__KEY" and not (tmp_path / "elsewhere" / "audit.key").exists()
    with pytest.raises(AuditKeyError, match="shorter than 16"):
        load_audit_key(tmp_path, "short")
    assert "a-long" not in repr(from_env)  # the secret is never printed


def test_a_chain_from_before_migration_0004_is_kept_and_keyed_after_its_last_event(db_url, make, log):
    from alembic import command
    from alembic.config import Config

    from patrol.store.database import MIGRATIONS_DIR

    old = Store(db_url, password_rounds=4)
    fill(old, make, 4)
    before = old.audit_events(limit=10)
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with old.engine.begin() as conn:  # the database as Patrol left it before this change
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    old.close()

    store = Store(db_url, password_rounds=4, audit_key=KEY)  # runs 0004, then keys the chain
    events = store.audit_events(limit=10)
    assert events[:4] == before  # not one byte of the old events changed
    assert events[4].action == "audit.keyed" and events[4].payload["legacy_events"] == 4
    assert events[4].payload["legacy_head"] == before[-1].hash
    take_checkpoint(store, log)
    v = verify(store, log)
    assert (v.ok, v.checked, v.keyed) == (True, 5, True)
    store.close()


def test_checkpoints_from_many_threads_at_once_stay_one_linked_sequence(keyed, make, log):
    import threading

    fill(keyed, make, 3)
    errors = []

    def checkpoint():
        try:
            take_checkpoint(keyed, log)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=checkpoint) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(log.read()) == 8  # read() checks every link
