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
