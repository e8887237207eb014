"""The category codes of TAXONOMY.md. Stable identifiers used in the API, the index and the model."""

SELF_HARM = "self_harm"
VIOLENCE_TERROR = "violence_terror"
WEAPONS = "weapons"
DRUGS = "drugs"
FRAUD = "fraud"
GAMBLING = "gambling"
PORN_SEXUAL = "porn_sexual"
ILLICIT_ADS = "illicit_ads"
PII_LEAK = "pii_leak"
ABUSE_HATE = "abuse_hate"
NONE = "none"

# Ordered from most to least severe, so that "the highest-severity label" is the first one in this order.
HARM_CATEGORIES: tuple[str, ...] = (
    SELF_HARM,
    VIOLENCE_TERROR,
    WEAPONS,
    DRUGS,
    FRAUD,
    GAMBLING,
    PORN_SEXUAL,
    PII_LEAK,
    ILLICIT_ADS,
    ABUSE_HATE,
)
ALL_CODES: tuple[str, ...] = HARM_CATEGORIES + (NONE,)

_RANK = {code: i for i, code in enumerate(HARM_CATEGORIES)}


def most_severe(labels) -> str:
    """The primary category among `labels`: the one listed first in HARM_CATEGORIES, or `none`."""
    ranked = sorted((c for c in labels if c in _RANK), key=_RANK.__getitem__)
    return ranked[0] if ranked else NONE
