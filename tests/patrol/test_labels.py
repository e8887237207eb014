"""Officers' labels (issue 15): decisions become labels, the recall sample, the export rows and
the figures, on a real database (SQLite, and PostgreSQL when the test scripts start one)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from patrol import labels as rules_mod
from patrol.labels import LabelError, allocate_sample, wilson
from patrol.reviews import Decision, DecisionError, PermissionDenied
from patrol.store import NotFound


def _decide(store, alert_id, decision, who="li", now=None):
    from tests.patrol.conftest import NOW

    store.claim(alert_id, who, now or NOW)
    return store.decide(alert_id, decision, who, now or NOW)


def test_confirming_labels_the_post_with_the_alerts_category_and_keeps_who_when_and_which_decision(store, people, make, rules):
    post, alert = make.post_with_alert(store, rules, "c1", labels=("drugs",))
    _decide(store, alert.id, Decision("confirm", disposition="reported"))
    [label] = store.post_labels(post.id)
    assert (label.category, label.origin, label.alert_id, label.decision, label.outcome, label.predicted) == \
        ("drugs", "alert", alert.id, "confirm", "reported", "drugs")
    assert label.labelled_by == "li" and label.labelled_at == make.now
    decided = [e for e in store.audit_events(limit=100) if e.action == "alert.decided"]
    assert decided[-1].payload["label_id"] == label.id


def test_an_officer_corrects_the_category_while_confirming(store, people, make, rules):
    post, alert = make.post_with_alert(store, rules, "c2", labels=("fraud",))
    _decide(store, alert.id, Decision("confirm", disposition="reported", category="gambling"))
    [label] = store.post_labels(post.id)
    assert (label.category, label.predicted) == ("gambling", "fraud")
    assert store.get_alert(alert.id).history[-1].payload["category"] == "gambling"


def test_a_corrected_category_must_be_a_harm_category_and_only_confirm_takes_one():
    with pytest.raises(DecisionError, match="one of"):
        Decision("confirm", disposition="reported", category="politics")
    with pytest.raises(DecisionError, match="one of"):
        Decision("confirm", disposition="reported", category="none")
    with pytest.raises(DecisionError, match="only confirm"):
        Decision("dismiss", reason="false_positive", category="fraud")


@pytest.mark.parametrize("reason,label", [("false_positive", "none"), ("counter_speech", "none"),
                                          ("news_or_fiction", "none"), ("duplicate", None), ("out_of_scope", None)])
def test_what_a_dismissal_labels(store, people, make, rules, reason, label):
    post, alert = make.post_with_alert(store, rules, f"d-{reason}", labels=("drugs",))
    _decide(store, alert.id, Decision("dismiss", reason=reason))
    assert [x.category for x in store.post_labels(post.id)] == ([label] if label else [])


def test_escalating_labels_nothing_until_the_supervisor_decides(store, people, make, rules):
    post, alert = make.post_with_alert(store, rules, "e1", labels=("weapons",))
    _decide(store, alert.id, Decision("escalate", note="看看这个"))
    assert store.post_labels(post.id) == []
    _decide(store, alert.id, Decision("confirm", disposition="referred"), who="zhao")
    assert [(x.category, x.labelled_by) for x in store.post_labels(post.id)] == [("weapons", "zhao")]


def test_export_rows_have_the_shared_format_no_author_and_the_latest_label_per_post(store, people, make, rules):
    post, alert = make.post_with_alert(store, rules, "x1", labels=("fraud",), title="标题", text="刷单返利日结")
    _decide(store, alert.id, Decision("confirm", disposition="reported"))
    store.label_post(post.id, "gambling", "wang", make.now + timedelta(hours=1))  # a second look wins
    rows = store.training_labels().rows
    assert rows == [{"id": f"officer_decisions:{post.id}", "text": "标题\n刷单返利日结", "category": "gambling",
                     "dataset": "officer_decisions", "split": "train"}]
    assert "u123" not in json.dumps(rows, ensure_ascii=False)  # the author never leaves
    assert store.training_labels(since=make.now + timedelta(hours=2)).rows == []
    assert len(store.post_labels(post.id)) == 2  # the older label stays on the record


def test_label_post_refuses_unknown_categories_missing_posts_and_roles_that_do_not_review(store, people, make, rules):
    post, _ = make.post_with_alert(store, rules, "r1")
    with pytest.raises(LabelError, match="unknown category 'politics'"):
        store.label_post(post.id, "politics", "li", make.now)
    with pytest.raises(NotFound, match="no post 'nope'"):
        store.label_post("nope", "none", "li", make.now)
    with pytest.raises(PermissionDenied, match="cannot label"):
        store.label_post(post.id, "none", "qian", make.now)
    assert store.post_labels(post.id) == []


def _quiet_posts(store, make, source, n, start=0):
    recs = [make.record(make.raw(f"{source}-{i}", text=f"今天天气不错 {i}", source=source), make.analysis())
            for i in range(start, start + n)]
    store.save_batch(recs, [], make.now)
    return recs


def test_the_recall_sample_is_stratified_by_source_skips_alerted_posts_and_is_drawn_once_a_day(store, people, make, rules):
    _quiet_posts(store, make, "big-forum", 30)
    _quiet_posts(store, make, "small-feed", 3)
    alerted, _ = make.post_with_alert(store, rules, "a1", source="small-feed")
    drawn = store.draw_recall_sample(make.now.date(), 11, make.now, seed=1)
    by_source = {s: sum(1 for p in drawn if p.source == s) for s in ("big-forum", "small-feed")}
    assert by_source == allocate_sample({"big-forum": 30, "small-feed": 3}, 11) == {"big-forum": 10, "small-feed": 1}
    assert alerted.id not in {p.post_id for p in drawn}
    again = store.draw_recall_sample(make.now.date(), 11, make.now, seed=2)
    assert [p.post_id for p in again] == [p.post_id for p in drawn]
    assert [e.action for e in store.audit_events(limit=100)].count("recall_sample.drawn") == 1
    # labelling a sampled post takes it off the queue and counts for the miss rate
    store.label_post(drawn[0].post_id, "drugs", "li", make.now, origin="recall_sample")
    assert drawn[0].post_id not in {p.post_id for p in store.recall_queue()}
    assert len(store.recall_queue()) == 10
    figures = store.label_figures()
    assert figures["miss_rate"]["drugs"] == wilson(1, 1).to_dict()
    assert figures["interval"] == "95% Wilson score interval"


def test_live_precision_per_category_comes_from_decisions(store, people, make, rules):
    for i, decision in enumerate([Decision("confirm", disposition="reported"),
                                  Decision("confirm", disposition="reported", category="gambling"),
                                  Decision("dismiss", reason="false_positive")]):
        _, alert = make.post_with_alert(store, rules, f"p{i}", labels=("fraud",))
        _decide(store, alert.id, decision)
    fraud = store.label_figures()["precision"]["fraud"]
    assert (fraud["k"], fraud["n"], fraud["rate"]) == (1, 3, round(1 / 3, 4))
    assert fraud["low"] < fraud["rate"] < fraud["high"]


def test_the_wilson_interval_against_known_values():
    # 0 of 10: [0, 0.2775]; 5 of 10: [0.2366, 0.7634] (Wilson 1927; e.g. Brown, Cai & DasGupta 2001)
    assert (wilson(0, 10).low, wilson(0, 10).high) == (0.0, 0.2775)
    assert (wilson(5, 10).low, wilson(5, 10).high) == (0.2366, 0.7634)
    assert wilson(0, 0).rate is None


def test_sample_allocation_is_proportional_with_one_per_source_and_never_more_than_there_is():
    assert allocate_sample({"a": 1000, "b": 10, "c": 0}, 20) == {"a": 19, "b": 1}
    assert allocate_sample({"a": 2, "b": 3}, 50) == {"a": 2, "b": 3}
    assert sum(allocate_sample({"a": 7, "b": 7, "c": 7}, 10).values()) == 10


def test_the_held_back_slice_is_stable_and_about_a_fifth():
    ids = [f"officer_decisions:{i}" for i in range(2000)]
    held = [i for i in ids if rules_mod.held_back(i)]
    assert 0.17 < len(held) / len(ids) < 0.23
    assert held == [i for i in ids if rules_mod.held_back(i)]
