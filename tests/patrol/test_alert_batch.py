"""A batch's alerts opened together (patrol/store/alert_batch.py, AuditChain.batch) give the same
database as opening them one by one: the same alert rows (groups, counts, versions), group keys,
labels and audit events, hash for hash under the same key. The reference store is SQLite; the
store under test runs on SQLite and on PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from patrol.alerts import evaluate_rules, source_health_alert
from patrol.audit_key import AuditKey
from patrol.reviews import Decision
from patrol.store import Store
from patrol.store.schema import alert_group_keys, alert_labels, alerts, audit_head, audit_log

KEY = AuditKey(b"b" * 32, "test")
AD = "兼职刷单返利，日结三百，每天只需动动手指，详情加微信 shuadan_778 咨询，名额有限先到先得"
OTHER = "今天天气很好，我们去公园散步，看到很多人在放风筝，孩子们玩得很开心，晚上一起吃饭"

# (external id, text, labels, extra raw fields). Chosen so that, within one batch, an alert leads
# and later ones join it by near-duplicate text, by contact id and by thread; a critical post is
# not put under a medium lead; a post with too little text has no near-duplicate key.
FIRST = [
    ("a1", AD, ("fraud",), {}),
    ("a2", AD.replace("三百", "三佰"), ("fraud",), {}),
    ("a3", "菠菜大平台，充值秒到，注册就送彩金，联系微信 SHUADAN_778", ("gambling",), {}),
    ("a4", AD, ("self_harm",), {}),
    ("a5", "冰糖到货，老地方见，要的私信", ("drugs",), {"thread_id": "9"}),
    ("a6", "还有货吗？我要两克，怎么联系你", ("drugs",), {"thread_id": "9", "parent_external_id": "a5"}),
    ("a7", "仿真枪出售，包邮到家，可验货", ("weapons",), {"thread_id": "9"}),
    ("a8", "加微信", ("fraud",), {}),
    ("a9", OTHER, ("fraud",), {}),
]
# A second batch meets the first one's leads from the database, after one of them was decided.
SECOND = [
    ("b1", AD.replace("动动手指", "动手指头"), ("fraud",), {}),
    ("b2", "仿真枪出售，包邮到家，可验货，量大从优", ("weapons",), {"thread_id": "9"}),
    ("b3", OTHER.replace("很好", "不错"), ("fraud",), {}),
    ("b4", "出冰，同城面交，加微信 shuadan_778", ("drugs",), {}),
]


def _batch(make, rules, rows, now):
    records, found = [], []
    for external_id, text, labels, extra in rows:
        raw = make.raw(external_id, text=text, **extra)
        an = make.analysis(*labels)
        records.append(make.record(raw, an))
        alert = evaluate_rules(raw, an, rules, now)
        assert alert is not None, external_id
        found.append(alert)
    return records, found


def _fill(store, make, rules, one_by_one: bool):
    now = make.now
    records, found = _batch(make, rules, FIRST, now)
    health = source_health_alert("city-forum", "silent for 3 days", now)
    reports = [store.save_batch(records, found[:5] + [health] + found[5:], now, one_by_one=one_by_one)]
    store.add_user("li", "officer", "li-password", now=now)
    lead_a9 = found[-1].id
    store.claim(lead_a9, "li", now)
    store.decide(lead_a9, Decision("dismiss", reason="false_positive"), "li", now)
    later = now + timedelta(minutes=5)
    records, more = _batch(make, rules, SECOND, later)
    # The first batch's alerts again (a re-fetch that re-raises them): refused as already open.
    reports.append(store.save_batch(records, more + found[:2], later, one_by_one=one_by_one))
    return reports


def _rows(store, table, order):
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(*order))]


def _snapshot(store):
    return {
        "alerts": _rows(store, alerts, [alerts.c.id]),
        "keys": _rows(store, alert_group_keys, [alert_group_keys.c.key, alert_group_keys.c.alert_id]),
        "labels": _rows(store, alert_labels, [alert_labels.c.alert_id, alert_labels.c.label]),
        "audit": [{k: v for k, v in r.items() if k != "id"} for r in _rows(store, audit_log, [audit_log.c.seq])],
        "head": _rows(store, audit_head, [audit_head.c.id]),
    }


@pytest.fixture
def reference(tmp_path, make, rules):
    ref = Store(f"sqlite:///{tmp_path / 'reference.db'}", password_rounds=4, audit_key=KEY)
    reports = _fill(ref, make, rules, one_by_one=True)
    yield ref, reports
    ref.close()


def test_batched_alerts_give_the_same_rows_and_audit_events_as_one_by_one(db_url, make, rules, reference):
    ref, ref_reports = reference
    store = Store(db_url, password_rounds=4, audit_key=KEY)
    try:
        reports = _fill(store, make, rules, one_by_one=False)
        for got, want in zip(reports, ref_reports):
            assert got.opened_alert_ids == want.opened_alert_ids
            assert got.skipped_alert_ids == want.skipped_alert_ids
        got, want = _snapshot(store), _snapshot(ref)
        # The scenario does what it says: groups formed within the batch and across batches.
        by_id = {a["id"]: a for a in got["alerts"]}
        first = {x[0]: a.id for x, a in zip(FIRST, _batch(make, rules, FIRST, make.now)[1])}
        second = {x[0]: a.id for x, a in zip(SECOND, _batch(make, rules, SECOND, make.now)[1])}
        assert by_id[first["a2"]]["group_id"] == first["a1"]          # near-duplicate, same batch
        assert by_id[first["a3"]]["group_id"] == first["a1"]          # contact id, same batch
        assert by_id[first["a4"]]["group_id"] is None                 # critical: not under a lower lead
        assert by_id[first["a6"]]["group_id"] == first["a5"]          # thread, same batch
        # From the database: b1 matches a1 and a4 by text and contact and goes to the more severe a4.
        assert by_id[second["b1"]]["group_id"] == first["a4"]
        assert by_id[second["b2"]]["group_id"] == first["a7"]         # thread, from the database
        assert by_id[second["b3"]]["group_id"] is None                # its lead was decided meanwhile
        assert by_id[first["a1"]]["group_size"] == 3                  # a2 and a3
        assert by_id[first["a4"]]["group_size"] == 3                  # b1 and b4, in a later batch
        assert got == want
        assert len(got["audit"]) > 20
        assert store.verify_audit().ok and store.verify_audit().keyed
    finally:
        store.close()


def test_a_failed_batch_leaves_no_alert_and_no_audit_event(store, make, rules):
    records, found = _batch(make, rules, FIRST[:3], make.now)
    before = store.audit_head()
    with pytest.raises(ValueError, match="neither stored nor in this batch"):
        # The third alert's post is not in the batch: the whole transaction is refused.
        store.save_batch(records[:2], found, make.now)
    assert store.audit_head() == before
    assert store.list_alerts().items == []
    assert store.verify_audit().ok
