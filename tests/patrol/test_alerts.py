from datetime import timedelta

import pytest

from patrol import taxonomy
from patrol.alerts import (
    DEFAULT_RULES_PATH, AlertRule, RulesError, alert_id_for_post, evaluate_rules, load_rules,
    parse_duration, source_health_alert,
)
from nlp.categories import HARM_CATEGORIES


def write(tmp_path, body: str):
    path = tmp_path / "rules.yaml"
    path.write_text(body, encoding="utf-8")
    return path


# --- the default rules file ---------------------------------------------------------------

def test_default_rules_cover_every_harm_category_once_with_taxonomy_severity_and_sla():
    rules = load_rules()
    assert [r.category for r in rules if r.source is None] == list(HARM_CATEGORIES)
    for r in rules:
        assert r.severity == taxonomy.DEFAULT_SEVERITY[r.category]
        assert r.sla == taxonomy.SLA[r.category]


def test_default_porn_rule_escalates_minors_to_critical_within_15_minutes():
    porn = next(r for r in load_rules(DEFAULT_RULES_PATH) if r.category == "porn_sexual")
    assert porn.minor is not None
    assert (porn.minor.severity, porn.minor.sla) == taxonomy.MINOR_ESCALATION


# --- evaluate_rules -----------------------------------------------------------------------

def test_post_without_labels_raises_no_alert(make, rules):
    assert evaluate_rules(make.raw(), make.analysis(), rules, make.now) is None


def test_primary_category_is_the_most_severe_matched_label(make, rules):
    alert = evaluate_rules(make.raw(), make.analysis("gambling", "pii_leak", "self_harm"), rules, make.now)
    assert alert.category == "self_harm"
    assert alert.severity == "critical"
    assert alert.labels == ("self_harm", "gambling", "pii_leak")
    assert alert.due_at == make.now + timedelta(minutes=15)


def test_label_below_its_rule_threshold_does_not_count(make, rules):
    an = make.analysis("gambling", "abuse_hate", scores={"gambling": 0.3, "abuse_hate": 0.7})
    alert = evaluate_rules(make.raw(), an, rules, make.now)
    assert alert.category == "abuse_hate"
    assert alert.labels == ("abuse_hate",)
    assert evaluate_rules(make.raw(), make.analysis("gambling", score=0.3), rules, make.now) is None


def test_alert_keeps_a_frozen_copy_of_the_post_and_its_analysis(make, rules):
    r = make.raw(title="出货", text="冰 同城 面交")
    an = make.analysis("drugs", score=0.8)
    alert = evaluate_rules(r, an, rules, make.now)
    assert (alert.post_id, alert.source, alert.url, alert.title, alert.text, alert.author) == (
        r.id, r.source, r.url, r.title, r.text, r.author)
    assert alert.content_sha256 == r.content_sha256 and alert.fetched_at == r.fetched_at
    assert alert.analysis == an.to_dict()
    assert alert.score == 0.8 and alert.status == "open" and alert.rule == "drugs@default"


def test_alert_id_is_the_same_for_the_same_post_whenever_it_is_evaluated(make, rules):
    r = make.raw()
    a1 = evaluate_rules(r, make.analysis("drugs"), rules, make.now)
    a2 = evaluate_rules(r, make.analysis("fraud"), rules, make.now + timedelta(hours=3))
    assert a1.id == a2.id == alert_id_for_post(r.id)


def test_porn_with_minor_evidence_is_critical_with_15_minute_sla(make, rules):
    an = make.analysis("porn_sexual", evidence=[make.minor_evidence()])
    alert = evaluate_rules(make.raw(), an, rules, make.now)
    assert alert.severity == "critical"
    assert alert.due_at - alert.opened_at == timedelta(minutes=15)
    assert alert.rule == "porn_sexual@default+minor"


def test_porn_without_minor_evidence_stays_medium(make, rules):
    alert = evaluate_rules(make.raw(), make.analysis("porn_sexual"), rules, make.now)
    assert (alert.severity, alert.due_at - alert.opened_at) == ("medium", timedelta(hours=4))


def test_minor_escalation_outranks_other_labels_when_choosing_the_primary(make, rules):
    an = make.analysis("fraud", "porn_sexual", evidence=[make.minor_evidence()])
    assert evaluate_rules(make.raw(), an, rules, make.now).category == "porn_sexual"


def test_source_override_replaces_the_default_rule_for_that_source_only(make, tmp_path):
    rules = load_rules(write(tmp_path, """
rules:
  - {category: abuse_hate, min_score: 0.5}
  - {category: abuse_hate, source: noisy-forum, min_score: 0.95, sla: 2d}
  - {category: gambling, min_score: 0.5}
  - {category: gambling, source: noisy-forum, min_score: 0.1, enabled: false}
"""))
    an = make.analysis("abuse_hate", "gambling", score=0.9)
    assert evaluate_rules(make.raw(source="noisy-forum"), an, rules, make.now) is None
    elsewhere = evaluate_rules(make.raw(source="city-forum"), an, rules, make.now)
    assert elsewhere.category == "gambling" and elsewhere.labels == ("gambling", "abuse_hate")
    loud = make.analysis("abuse_hate", score=0.97)
    noisy = evaluate_rules(make.raw(source="noisy-forum"), loud, rules, make.now)
    assert noisy.rule == "abuse_hate@noisy-forum" and noisy.due_at - noisy.opened_at == timedelta(days=2)


def test_category_without_a_rule_never_alerts(make):
    rules = [AlertRule("fraud", 0.5, "high", timedelta(hours=2))]
    assert evaluate_rules(make.raw(), make.analysis("drugs"), rules, make.now) is None


def test_source_health_alert_has_no_post_and_explains_itself(make):
    alert = source_health_alert("city-forum", "3 empty passes in a row", make.now)
    assert alert.post_id is None and alert.is_ops
    assert alert.category == "ops_source_health" and alert.severity == "high"
    assert alert.text == "3 empty passes in a row" and alert.source == "city-forum"
    assert alert.due_at == make.now + taxonomy.SLA["ops_source_health"]


# --- broken rules files -------------------------------------------------------------------

@pytest.mark.parametrize("body, index, category, key, reason", [
    ("rules:\n  - {category: drugs, min_score: high}\n", 1, "drugs", "min_score", "between 0 and 1"),
    ("rules:\n  - {category: drugs, min_score: 1.5}\n", 1, "drugs", "min_score", "between 0 and 1"),
    ("rules:\n  - {category: drugs, min_score: 0.5}\n  - {category: politics, min_score: 0.5}\n",
     2, "politics", "category", "must be one of"),
    ("rules:\n  - {category: fraud, min_score: 0.5, severity: urgent}\n", 1, "fraud", "severity", "critical"),
    ("rules:\n  - {category: fraud, min_score: 0.5, sla: soon}\n", 1, "fraud", "sla", "15m"),
    ("rules:\n  - {category: fraud, min_score: 0.5, threshold: 3}\n", 1, "fraud", "threshold", "not a rule key"),
    ("rules:\n  - {category: porn_sexual, min_score: 0.5, minor: {severity: critical, sla: 0m}}\n",
     1, "porn_sexual", "minor.sla", "positive duration"),
    ("rules:\n  - {category: fraud, min_score: 0.5}\n  - {category: fraud, min_score: 0.7}\n",
     2, "fraud", "category", "duplicates rule #1"),
    ("rules:\n  - just a string\n", 1, None, None, "must be a mapping"),
])
def test_broken_rules_file_is_refused_naming_file_rule_key_and_reason(tmp_path, body, index, category, key, reason):
    path = write(tmp_path, body)
    with pytest.raises(RulesError) as err:
        load_rules(path)
    e = err.value
    assert (e.index, e.category, e.key) == (index, category, key)
    assert reason in e.reason
    message = str(e)
    assert str(path) in message and f"rule #{index}" in message
    if key:
        assert f"key '{key}'" in message


def test_rules_file_that_is_not_yaml_is_refused_with_its_path(tmp_path):
    path = write(tmp_path, "rules: [unclosed\n")
    with pytest.raises(RulesError, match="not valid YAML") as err:
        load_rules(path)
    assert str(path) in str(err.value)


def test_rules_file_without_a_rules_list_is_refused(tmp_path):
    with pytest.raises(RulesError, match="'rules' list"):
        load_rules(write(tmp_path, "categories: []\n"))


def test_missing_rules_file_is_refused_with_its_path(tmp_path):
    with pytest.raises(RulesError, match="cannot be read") as err:
        load_rules(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(err.value)


@pytest.mark.parametrize("text, expected", [
    ("15m", timedelta(minutes=15)), ("2h", timedelta(hours=2)), ("1d", timedelta(days=1)), ("30s", timedelta(seconds=30)),
])
def test_durations_read_as_people_write_them(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "-5m", "0h", "1w", None, 1.5])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)
