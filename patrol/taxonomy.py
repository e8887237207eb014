"""The categories an alert can have, their severity, review deadline (SLA) and Chinese label,
from TAXONOMY.md. The post categories themselves are the classifier's (nlp.categories); the
operations category is the core's own. Adapters (the console, the API) read categories and labels
from here instead of repeating them.
"""
from __future__ import annotations

from datetime import timedelta

# HARM_CATEGORIES is re-exported for the adapters: the post categories, most severe first.
from nlp.categories import HARM_CATEGORIES, NONE

# Operations alerts (a source gone silent) are about collection gaps, not posts.
OPS_SOURCE_HEALTH = "ops_source_health"

# Every category an alert can carry, the post categories most severe first, then operations.
ALERT_CATEGORIES: tuple[str, ...] = HARM_CATEGORIES + (OPS_SOURCE_HEALTH,)

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
    OPS_SOURCE_HEALTH: "high",
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
    OPS_SOURCE_HEALTH: timedelta(hours=2),
}

# porn_sexual involving a minor is critical with a 15-minute SLA.
MINOR_ESCALATION = ("critical", timedelta(minutes=15))

# What an officer reads for each code (the codes stay the stable identifiers); `none` is the
# classifier's "no harm found", shown on posts and scores.
LABEL_ZH = {
    "self_harm": "自杀自残",
    "violence_terror": "暴力威胁/暴恐",
    "weapons": "枪爆物品",
    "drugs": "毒品",
    "fraud": "诈骗",
    "gambling": "赌博",
    "porn_sexual": "色情低俗",
    "illicit_ads": "黑产广告",
    "pii_leak": "个人信息泄露",
    "abuse_hate": "谩骂/歧视",
    NONE: "无",
    OPS_SOURCE_HEALTH: "信源异常",
}
