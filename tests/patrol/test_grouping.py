"""Alert grouping: near-duplicates, the same contact id and the same thread attach to one lead;
one decision applies to the group; each member keeps its own history (patrol/grouping.py,
patrol/store/groups.py), on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from patrol.alerts import evaluate_rules
from patrol.grouping import NEAR_AGREEMENT, agreement, group_keys, minhash
from patrol.reviews import Decision
from patrol.store import AlertFilter

AD = "兼职刷单返利，日结三百，每天只需动动手指，详情加微信 shuadan_778 咨询，名额有限先到先得"


def save(store, make, rules, external_id, text, labels=("fraud",), now=None, **kw):
    now = now or make.now
    r = make.raw(external_id, text=text, **kw)
    an = make.analysis(*labels)
    alert = evaluate_rules(r, an, rules, now)
    report = store.save_batch([make.record(r, an)], [alert], now)
    assert report.opened_alert_ids == [alert.id]
    return alert


def test_minhash_agrees_on_near_duplicates_and_not_on_different_texts():
    a = minhash(AD)
    b = minhash(AD.replace("三百", "三佰"))
    c = minhash("今天天气很好，我们去公园散步，看到很多人在放风筝，孩子们玩得很开心")
    assert agreement(a, b) >= NEAR_AGREEMENT > agreement(a, c)
    assert minhash("加微信") is None  # too short to say anything


def test_near_duplicate_posts_attach_to_one_open_alert_with_a_count_and_members(store, make, rules):
    lead = save(store, make, rules, "t1", AD)
    member = save(store, make, rules, "t2", AD.replace("三百", "三佰"), now=make.now + timedelta(minutes=5))
    queue = store.list_alerts()
    assert [a.id for a in queue.items] == [lead.id]
    assert queue.items[0].group_size == 2
    assert [m.id for m in store.group_members(lead.id)] == [member.id]
    got = store.get_alert(member.id)
    assert got.alert.group_id == lead.id
    assert [e.action for e in got.history] == ["alert.opened", "alert.grouped"]
    assert got.history[1].payload["reason"] == "near_duplicate"
    # Members stay reachable when asked for.
    assert {a.id for a in store.list_alerts(AlertFilter(members=True)).items} == {lead.id, member.id}


def test_the_same_contact_id_groups_different_texts_even_under_another_category(store, make, rules):
    lead = save(store, make, rules, "t1", AD)
    other = save(store, make, rules, "t2", "菠菜大平台，充值秒到，注册就送彩金，联系微信 SHUADAN_778", labels=("gambling",))
    assert store.get_alert(other.id).alert.group_id == lead.id
    assert store.get_alert(other.id).history[-1].payload["reason"] == "contact"


def test_the_same_thread_groups_alerts_of_the_same_category_only(store, make, rules):
    lead = save(store, make, rules, "9-1", "冰糖到货，老地方见，要的私信", labels=("drugs",), thread_id="9")
    same = save(store, make, rules, "9-2", "还有货吗？我要两克，怎么联系你", labels=("drugs",), thread_id="9",
                parent_external_id="9-1")
    other = save(store, make, rules, "9-3", "仿真枪出售，包邮到家，可验货", labels=("weapons",), thread_id="9")
    assert store.get_alert(same.id).alert.group_id == lead.id
    assert store.get_alert(other.id).alert.group_id is None


def test_a_more_severe_alert_is_never_hidden_under_a_less_severe_lead(store, make, rules):
    save(store, make, rules, "t1", AD, labels=("illicit_ads",))  # medium
    critical = save(store, make, rules, "t2", AD, labels=("self_harm",))
    assert store.get_alert(critical.id).alert.group_id is None
    assert critical.id in {a.id for a in store.list_alerts().items}


def test_a_decided_lead_takes_no_new_members(store, make, rules, people):
    lead = save(store, make, rules, "t1", AD)
    store.claim(lead.id, "li", make.now)
    store.decide(lead.id, Decision("dismiss", reason="false_positive"), "li", make.now)
    later = save(store, make, rules, "t2", AD)
    assert store.get_alert(later.id).alert.group_id is None


def test_one_decision_applies_to_the_group_and_each_member_keeps_its_own_history(store, make, rules, people):
    lead = save(store, make, rules, "t1", AD)
    m1 = save(store, make, rules, "t2", AD + "！")
    m2 = save(store, make, rules, "t3", "高薪兼职，在家就能做，联系微信 shuadan_778")
    store.claim(lead.id, "li", make.now)
    store.decide(lead.id, Decision("confirm", disposition="reported", note="同一刷单团伙"), "li", make.now)
    for member in (m1, m2):
        got = store.get_alert(member.id)
        assert (got.alert.status, got.alert.decided_by, got.alert.outcome) == ("confirmed", "li", "reported")
        decided = [e for e in got.history if e.action == "alert.decided"]
        assert len(decided) == 1 and decided[0].payload["via_group"] == lead.id
    assert store.verify_audit().ok


def test_group_keys_of_an_ops_alert_are_empty(make):
    from patrol.alerts import source_health_alert

    assert group_keys(source_health_alert("city-forum", "silent", make.now)) == ([], "")
