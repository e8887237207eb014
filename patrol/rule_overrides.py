"""An administrator's changes to the alert rules, kept in the workflow database over the rules
file (patrol/data/rules.yaml): a rule switched off or on, or its threshold moved.

The file stays the rules' one definition (categories, severities, deadlines, the minor
escalation); an override names a rule of it (`category@source`) and changes only `enabled` and
`min_score`, the two things an administrator tunes on a live system. Overrides live in the
database so every process over it (serve, crawl, ingest, the demo) reads the same ones when it
builds its rules, and each change is one audited transaction (`rule.changed`). A rule the file no
longer has keeps its override row, which simply names nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Iterable, Mapping

from patrol.alerts import AlertRule


class RuleChangeError(ValueError):
    """A change that cannot be made as asked; `zh` says it in Chinese for the console, naming the
    rule and the field."""

    def __init__(self, message: str, zh: str):
        super().__init__(message)
        self.zh = zh


@dataclass(frozen=True)
class RuleOverride:
    rule: str
    enabled: bool
    min_score: float
    changed_by: str
    changed_at: datetime


def parse_threshold(rule: str, value: str) -> float:
    """A threshold typed in a form: a number from 0 to 1 ("0.75", "0,75" is refused, not guessed)."""
    text = (value or "").strip()
    try:
        score = float(text)
    except ValueError:
        raise RuleChangeError(f"{rule}: min_score must be a number between 0 and 1, got {text!r}",
                              f"规则 {rule} 的阈值“{text[:20]}”不是数字：请填写 0 到 1 之间的小数，如 0.75。") from None
    if not math.isfinite(score) or not 0 <= score <= 1:
        raise RuleChangeError(f"{rule}: min_score must be between 0 and 1, got {text!r}",
                              f"规则 {rule} 的阈值须在 0 到 1 之间，收到 {text[:20]}。")
    return score


def rule_named(rules: Iterable[AlertRule], name: str) -> AlertRule:
    for r in rules:
        if r.name == name:
            return r
    raise RuleChangeError(f"no alert rule {name!r}", f"没有名为“{name[:80]}”的告警规则（规则文件中不存在）。")


def apply_overrides(rules: Iterable[AlertRule], overrides: Mapping[str, RuleOverride]) -> list[AlertRule]:
    """The file's rules with the administrators' changes on top (pure)."""
    out = []
    for r in rules:
        o = overrides.get(r.name)
        out.append(replace(r, enabled=o.enabled, min_score=o.min_score) if o else r)
    return out
