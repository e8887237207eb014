"""The alert rules as this process applies them, and an administrator's change to one
(patrol/rule_overrides.py): checked, stored with its audit event, then applied here at once."""
from __future__ import annotations

from dataclasses import replace

from api.deps import now
from patrol.alerts import AlertRule
from patrol.rule_overrides import RuleOverride, parse_threshold, rule_named


def overrides(svc) -> dict[str, RuleOverride]:
    return svc.store.rule_overrides()


def change_rule(svc, actor: str, name: str, enabled: bool, min_score: str) -> AlertRule:
    """Raises RuleChangeError (a bad rule name or threshold, in Chinese too) or PermissionDenied
    (not an active admin); nothing is stored then. The ingest of this process reads `svc.rules`
    for every batch, so it follows the change at once; other processes over the same database
    read the overrides when they start (`patrol crawl`, `patrol serve`)."""
    rule = rule_named(svc.rules, name)
    score = parse_threshold(name, min_score)
    svc.store.set_rule_override(name, (rule.enabled, rule.min_score), enabled, score, actor, now())
    changed = replace(rule, enabled=enabled, min_score=score)
    svc.rules[:] = [changed if r.name == name else r for r in svc.rules]
    return changed
