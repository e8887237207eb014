"""Severity and review deadlines (SLA) per category, from TAXONOMY.md."""
from __future__ import annotations

from datetime import timedelta

SEVERITIES = ("critical", "high", "medium", "low")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}

DEFAULT_SEVERITY = {
    "self_harm": "critical",
    "violence_terror": "critical",
    "weapons": "high",
    "drugs": "high",
    "fraud": "high",
    "gambling": "medium",
    "porn_sexual": "medium",
    "illicit_ads": "medium",
    "pii_leak": "medium",
    "abuse_hate": "low",
    # Operations alerts (a source gone silent) are about collection gaps, not posts.
    "ops_source_health": "high",
}

SLA = {
    "self_harm": timedelta(minutes=15),
    "violence_terror": timedelta(minutes=30),
    "weapons": timedelta(hours=2),
    "drugs": timedelta(hours=2),
    "fraud": timedelta(hours=2),
    "gambling": timedelta(hours=4),
    "porn_sexual": timedelta(hours=4),
    "illicit_ads": timedelta(hours=8),
    "pii_leak": timedelta(hours=4),
    "abuse_hate": timedelta(hours=24),
    "ops_source_health": timedelta(hours=2),
}

# porn_sexual involving a minor is critical with a 15-minute SLA.
MINOR_ESCALATION = ("critical", timedelta(minutes=15))
