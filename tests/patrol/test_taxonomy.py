"""The taxonomy the core reads from the one taxonomy file holds today's values.

These literals are the ones patrol/taxonomy.py carried before the file existed: a change to a
code, the severity order, an SLA or a label must be made on purpose, here and in the file.
"""
from __future__ import annotations

from datetime import timedelta

from patrol import alerts, taxonomy

HARM = ("self_harm", "violence_terror", "weapons", "drugs", "fraud", "gambling", "porn_sexual",
        "pii_leak", "illicit_ads", "abuse_hate")


def test_alert_categories_and_severities_are_todays():
    assert taxonomy.HARM_CATEGORIES == HARM
    assert taxonomy.NONE == "none"
    assert taxonomy.OPS_SOURCE_HEALTH == "ops_source_health"
    assert alerts.OPS_SOURCE_HEALTH == "ops_source_health"
    assert taxonomy.ALERT_CATEGORIES == HARM + ("ops_source_health", "ops_trend")
    assert taxonomy.SEVERITIES == ("critical", "high", "medium", "low")
    assert taxonomy.SEVERITY_RANK == {"critical": 0, "high": 1, "medium": 2, "low": 3}


def test_default_severity_is_todays():
    assert taxonomy.DEFAULT_SEVERITY == {
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
        "ops_source_health": "high",
        "ops_trend": "high",
    }


def test_sla_is_todays():
    assert taxonomy.SLA == {
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
        "ops_trend": timedelta(hours=1),
    }
    assert taxonomy.MINOR_ESCALATION == ("critical", timedelta(minutes=15))


def test_chinese_labels_are_todays():
    assert taxonomy.LABEL_ZH == {
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
        "none": "无",
        "ops_source_health": "信源异常",
        "ops_trend": "趋势异动",
    }


def test_every_alert_category_has_a_severity_an_sla_and_a_label():
    for code in taxonomy.ALERT_CATEGORIES:
        assert taxonomy.DEFAULT_SEVERITY[code] in taxonomy.SEVERITIES
        assert taxonomy.SLA[code] > timedelta(0)
        assert taxonomy.LABEL_ZH[code]
