"""The store's console state on SQLite and PostgreSQL: labels as rows (any-label filter), queue
counts, assignment, per-category dispositions, passed deadlines noticed once by concurrent
checkers, notifications, saved views."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from patrol import dispositions
from patrol.deadlines import ESCALATE_WHEN_OVERDUE
from patrol.reviews import Decision, DecisionError, PermissionDenied, TransitionError
from patrol.store import AlertFilter, InvalidFilter, Store
from tests.patrol.conftest import NOW


def test_an_alert_is_found_by_any_of_its_labels_and_counted(store, rules, make):
    _, both = make.post_with_alert(store, rules, "t1", labels=("fraud", "gambling"))
    _, drugs = make.post_with_alert(store, rules, "t2", labels=("drugs",))
    assert [a.id for a in store.list_alerts(AlertFilter(category="gambling")).items] == [both.id]
    assert [a.id for a in store.list_alerts(AlertFilter(category="drugs")).items] == [drugs.id]
    counts = store.queue_counts(AlertFilter(status=("open",)), NOW + timedelta(hours=3))
    assert counts.by_status == {"open": 2} and counts.by_severity == {"high": 2} and counts.overdue == 2
    assert store.queue_counts(AlertFilter(category="gambling"), NOW).by_status == {"open": 1}
    assert store.alert_sources() == ["city-forum"]


def test_assignment_follows_the_rules(store, rules, make, people):
    _, a = make.post_with_alert(store, rules, "t1")
    with pytest.raises(PermissionDenied):
        store.assign(a.id, "wang", "li", NOW)  # an officer may not assign
    with pytest.raises(PermissionDenied):
        store.assign(a.id, "qian", "zhao", NOW)  # an auditor reviews nothing
    after = store.assign(a.id, "wang", "zhao", NOW)
    assert (after.status, after.assignee) == ("claimed", "wang")
    store.decide(a.id, Decision("escalate", note="看一下"), "wang", NOW)
    with pytest.raises(PermissionDenied):
        store.assign(a.id, "li", "zhao", NOW)  # an escalated alert goes to a supervisor only
    assert store.assign(a.id, "zhao", "zhao", NOW).status == "escalated"
    store.decide(a.id, Decision("dismiss", reason="duplicate"), "zhao", NOW)
    with pytest.raises(TransitionError) as refused:
        store.assign(a.id, "wang", "zhao", NOW)
    assert refused.value.reason == "already_decided"


def test_dispositions_come_per_category_from_the_rules_file(store, rules, make, people):
    assert dispositions.for_category("self_harm")[:2] == ("police_called", "rescue_contacted")
    assert "reported" in dispositions.for_category("self_harm") and "victim_warned" not in dispositions.for_category("self_harm")
    _, a = make.post_with_alert(store, rules, "t1", labels=("self_harm",))
    store.claim(a.id, "li", NOW)
    with pytest.raises(DecisionError) as refused:
        store.decide(a.id, Decision("confirm", disposition="victim_warned"), "li", NOW)
    assert refused.value.code == "disposition_not_for_category"
    assert store.decide(a.id, Decision("confirm", disposition="rescue_contacted"), "li", NOW).outcome == "rescue_contacted"


def test_a_broken_dispositions_section_names_the_file_and_key(tmp_path):
    from patrol.alerts import RulesError
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules: []\ndispositions:\n  common: {reported: 已举报处置}\n  nonsense: {x: y}\n", encoding="utf-8")
    with pytest.raises(RulesError) as err:
        dispositions.load_dispositions(bad)
    assert "dispositions.nonsense" in str(err.value) and str(bad) in str(err.value)


def test_concurrent_deadline_checks_notice_a_breach_once(db_url, rules, make, people):
    stores = [Store(db_url, password_rounds=4) for _ in range(3)]
    _, a = make.post_with_alert(stores[0], rules, "t1", labels=("self_harm",))
    stores[0].touch_presence("zhao", NOW)
    later = NOW + timedelta(hours=1)
    found: list = []
    threads = [threading.Thread(target=lambda s=s: found.extend(
        s.notify_passed_deadlines(later, ESCALATE_WHEN_OVERDUE, later - timedelta(hours=12)))) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [(b.alert_id, b.notified) for b in found] == [(a.id, ("zhao",))]
    events = [e for e in stores[0].get_alert(a.id).history if e.action == "alert.deadline_passed"]
    assert len(events) == 1 and stores[0].verify_audit().ok
    assert [n["alert_id"] for n in stores[0].notifications_for("zhao")] == [a.id]
    for s in stores:
        s.close()


def test_nobody_on_shift_tells_every_active_supervisor(store, rules, make, people):
    _, a = make.post_with_alert(store, rules, "t1", labels=("violence_terror",))
    later = NOW + timedelta(hours=2)
    (breach,) = store.notify_passed_deadlines(later, ESCALATE_WHEN_OVERDUE, later - timedelta(hours=12))
    assert breach.notified == ("zhao",) and breach.on_shift is False


def test_saved_views_are_per_user_and_checked(store, people):
    store.save_view("li", "毒品", "category=drugs", NOW)
    store.save_view("li", "毒品", "category=drugs&sort=newest", NOW)  # same name: replaced
    assert store.saved_views("li") == [("毒品", "category=drugs&sort=newest")]
    assert store.saved_views("wang") == []
    with pytest.raises(InvalidFilter):
        store.save_view("li", "", "x", NOW)
    assert store.delete_view("li", "毒品") and store.saved_views("li") == []
