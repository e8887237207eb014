"""The classifier's view of the taxonomy file: codes, severity order and boosts hold today's values."""
from __future__ import annotations

from nlp import categories
from nlp.rule_scoring import CONTACT_BOOSTED, TRADE_BOOSTED
from nlp.training_data import HUMAN_LABELLED

HARM = ("self_harm", "violence_terror", "weapons", "drugs", "fraud", "gambling", "porn_sexual",
        "pii_leak", "illicit_ads", "abuse_hate")


def test_codes_and_severity_order_are_todays():
    assert categories.HARM_CATEGORIES == HARM
    assert categories.ALL_CODES == HARM + ("none",)
    assert categories.NONE == "none"
    named = {"SELF_HARM": "self_harm", "VIOLENCE_TERROR": "violence_terror", "WEAPONS": "weapons",
             "DRUGS": "drugs", "FRAUD": "fraud", "GAMBLING": "gambling", "PORN_SEXUAL": "porn_sexual",
             "ILLICIT_ADS": "illicit_ads", "PII_LEAK": "pii_leak", "ABUSE_HATE": "abuse_hate", "NONE": "none"}
    for name, code in named.items():
        assert getattr(categories, name) == code


def test_most_severe_follows_the_order():
    assert categories.most_severe(["abuse_hate", "fraud", "gambling"]) == "fraud"
    assert categories.most_severe(["illicit_ads", "pii_leak"]) == "pii_leak"
    assert categories.most_severe(["none", "unknown"]) == "none"
    assert categories.most_severe([]) == "none"


def test_boosts_and_human_labelled_are_todays():
    assert CONTACT_BOOSTED == frozenset({"gambling", "porn_sexual", "illicit_ads", "drugs", "weapons", "fraud"})
    assert TRADE_BOOSTED == frozenset({"drugs", "weapons"})
    assert set(HUMAN_LABELLED) == {"self_harm", "fraud", "abuse_hate"}


# --- a broken taxonomy file fails at load, with the file and the reason -----------------------

import pytest  # noqa: E402

from nlp.categories import TAXONOMY_PATH, TaxonomyError, load_taxonomy  # noqa: E402

GOOD = TAXONOMY_PATH.read_text(encoding="utf-8")
DRUGS_LINE = "  - {code: drugs,           label_zh: 毒品,          severity: high,     sla: 2h,  boosted_by: [contact, trade]}\n"


def _broken(tmp_path, old: str, new: str):
    assert old in GOOD, old
    path = tmp_path / "taxonomy.yaml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    assert info.value.path == str(path)
    assert str(info.value).startswith(f"{path}: ")
    return info.value.reason


def test_the_shipped_file_loads_and_is_the_one_in_use(tmp_path):
    copy = tmp_path / "taxonomy.yaml"
    copy.write_text(GOOD, encoding="utf-8")
    loaded = load_taxonomy(copy)
    assert loaded.harm == categories.TAXONOMY.harm
    assert loaded.operations == categories.TAXONOMY.operations


def test_unknown_field(tmp_path):
    reason = _broken(tmp_path, DRUGS_LINE, DRUGS_LINE.replace("sla: 2h,", "sla: 2h, colour: red,"))
    assert reason == "categories[3] (drugs): 'colour' is not a field (expected code, label_zh, severity, sla, boosted_by, human_labelled)"


def test_code_twice(tmp_path):
    reason = _broken(tmp_path, DRUGS_LINE, DRUGS_LINE + DRUGS_LINE)
    assert reason == "categories[4] (drugs): code 'drugs' is listed twice (first at categories[3] (drugs))"


def test_code_twice_across_sections(tmp_path):
    reason = _broken(tmp_path, "code: ops_source_health", "code: fraud")
    assert reason == "operations[0] (fraud): code 'fraud' is listed twice (first at categories[4] (fraud))"


def test_missing_sla(tmp_path):
    reason = _broken(tmp_path, DRUGS_LINE, DRUGS_LINE.replace(" sla: 2h,", ""))
    assert reason == "categories[3] (drugs): 'sla' is missing"


def test_bad_sla(tmp_path):
    reason = _broken(tmp_path, DRUGS_LINE, DRUGS_LINE.replace("sla: 2h", "sla: soon"))
    assert reason == "categories[3] (drugs): sla must be a positive duration like 15m, 2h or 1d, got 'soon'"


def test_unknown_severity(tmp_path):
    reason = _broken(tmp_path, DRUGS_LINE, DRUGS_LINE.replace("severity: high", "severity: urgent"))
    assert reason == "categories[3] (drugs): severity must be one of critical, high, medium, low, got 'urgent'"


def test_unknown_boost_signal(tmp_path):
    reason = _broken(tmp_path, DRUGS_LINE, DRUGS_LINE.replace("[contact, trade]", "[contact, price]"))
    assert reason == "categories[3] (drugs): boosted_by must be a list of contact, trade, got ['contact', 'price']"


def test_a_category_the_code_names_is_missing(tmp_path):
    reason = _broken(tmp_path, DRUGS_LINE, "")
    assert reason == "categories: 'drugs' is missing (the code names it: nlp/categories.py)"


def test_missing_section_and_bad_yaml(tmp_path):
    assert _broken(tmp_path, "minor_escalation: {severity: critical, sla: 15m}\n", "") == "the file: 'minor_escalation' is missing"
    assert _broken(tmp_path, "severities: [critical, high, medium, low]", "severities: [critical, high").startswith("is not valid YAML")
