"""The administrators' rule overrides (patrol/rule_overrides.py) in the database: read them all,
or change one rule in one audited transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from patrol import reviews
from patrol.rule_overrides import RuleOverride
from patrol.store.chain import AuditChain
from patrol.store.database import Database
from patrol.store.schema import rule_overrides
from patrol.store.users import acting_user
from patrol.users import ADMIN


def read_overrides(db: Database) -> dict[str, RuleOverride]:
    with db.read() as conn:
        return {r.rule: RuleOverride(r.rule, r.enabled, r.min_score, r.changed_by, r.changed_at)
                for r in conn.execute(select(rule_overrides))}


def set_override(db: Database, rule: str, before: tuple[bool, float], enabled: bool, min_score: float,
                 actor: str, now: datetime) -> RuleOverride:
    """`before`: the rule's (enabled, min_score) as the caller's process applies it, for the audit
    event. The actor must be an active admin, re-read inside the transaction."""
    with db.write() as conn:
        user = acting_user(conn, actor)
        if user.role != ADMIN or not user.active:
            raise reviews.PermissionDenied(f"{user.name} ({user.role}) cannot change alert rules",
                                           action="change_rule", role=user.role, needed=(ADMIN,))
        values = {"enabled": enabled, "min_score": min_score, "changed_by": user.name, "changed_at": now}
        if conn.execute(select(rule_overrides.c.rule).where(rule_overrides.c.rule == rule)).first():
            conn.execute(rule_overrides.update().where(rule_overrides.c.rule == rule).values(values))
        else:
            conn.execute(rule_overrides.insert().values(rule=rule, **values))
        AuditChain(conn, db.audit_key).append(now, user.name, "rule.changed", f"rule:{rule}", {
            "before": {"enabled": before[0], "min_score": before[1]},
            "after": {"enabled": enabled, "min_score": min_score}})
        return RuleOverride(rule, enabled, min_score, user.name, now)
