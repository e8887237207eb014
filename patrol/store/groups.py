"""Alert groups in the database: find a new alert's lead, attach it, and hand the lead's decision
to its members. What makes a group is patrol/grouping.py's; this module only keeps it.

Every post keeps its own alert row (one alert per post, ever), so each member keeps its own
history; a member carries `group_id` (its lead) and stays out of the queue, and the lead counts
itself and its members in `group_size`. Keys always point at the lead, so a member's contact id
or text draws later posts to the same lead. Only an ACTIVE lead takes members, and never one less
severe than the new alert: a critical post is never hidden under a medium case.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from patrol.alerts import ACTIVE_STATUSES, Alert
from patrol.grouping import near_duplicate
from patrol.store.chain import AuditChain
from patrol.store.database import SYSTEM_ACTOR
from patrol.store.engine import chunks, insert_ignore
from patrol.store.rows import REVIEW_FIELDS, alert_from_row
from patrol.store.schema import alert_group_keys, alerts
from patrol.taxonomy import SEVERITY_RANK


# When a lead matches on several keys, the reason shown is the strongest.
REASON_ORDER = ("near_duplicate", "contact", "thread")


@dataclass
class Leads:
    """The active leads the batch can meet: who holds each key (with the signature kept beside it,
    first write wins as with the table's primary key) and each lead's rank and opening time."""
    holders: dict[str, dict[str, str]] = field(default_factory=dict)   # key -> {lead id: signature}
    info: dict[str, tuple[int, datetime]] = field(default_factory=dict)  # lead id -> (rank, opened_at)

    def find(self, keys: list[tuple[str, str]], signature: str, severity: str) -> tuple[str, str] | None:
        """(lead id, reason) of the lead for an alert with these keys, or None: the most severe lead
        not less severe than the alert, then the oldest, then by id and reason."""
        rank = SEVERITY_RANK[severity]
        found = []
        for key, reason in dict(keys).items():
            for lead_id, kept_signature in self.holders.get(key, {}).items():
                lead_rank, opened_at = self.info[lead_id]
                if lead_rank > rank:
                    continue  # never hide a more severe alert under a less severe lead
                if reason == "near_duplicate" and not near_duplicate(kept_signature, signature):
                    continue
                found.append((lead_rank, opened_at, lead_id, REASON_ORDER.index(reason), reason))
        if not found:
            return None
        found.sort()
        return found[0][2], found[0][4]


def load_leads(conn: Connection, keys: set[str]) -> Leads:
    """Two lookups by primary key, keys first, then their alerts. Not one join: on SQLite the
    planner drove that join from the alerts' status index, reading every active alert for each
    batch, which cost 1 s per batch at 20,000 posts and grew with the store."""
    held: list = []
    for chunk in chunks(sorted(keys), 500):
        held += conn.execute(select(alert_group_keys.c.key, alert_group_keys.c.alert_id, alert_group_keys.c.signature)
                             .where(alert_group_keys.c.key.in_(chunk))).all()
    leads = Leads()
    for chunk in chunks(sorted({r.alert_id for r in held}), 500):
        for r in conn.execute(select(alerts.c.id, alerts.c.severity_rank, alerts.c.opened_at).where(
                alerts.c.id.in_(chunk), alerts.c.status.in_(ACTIVE_STATUSES), alerts.c.group_id.is_(None))):
            leads.info[r.id] = (r.severity_rank, r.opened_at)
    for r in held:
        if r.alert_id in leads.info:
            leads.holders.setdefault(r.key, {})[r.alert_id] = r.signature
    return leads


def find_lead(conn: Connection, keys: list[tuple[str, str]], signature: str, severity: str) -> tuple[str, str] | None:
    """(lead alert id, reason) of the active lead holding one of `keys`, or None. Among several,
    the most severe lead, then the oldest."""
    if not keys:
        return None
    return load_leads(conn, {k for k, _ in keys}).find(keys, signature, severity)


def keep_keys(conn: Connection, lead_id: str, keys: list[tuple[str, str]], signature: str) -> None:
    for key, _reason in keys:
        insert_ignore(conn, alert_group_keys, {"key": key, "alert_id": lead_id, "signature": signature})


def attached(conn: Connection, chain: AuditChain, lead_id: str, member: Alert, reason: str, now: datetime) -> None:
    """Count a member just inserted (with group_id = lead_id) on its lead, audited on both."""
    conn.execute(update(alerts).where(alerts.c.id == lead_id).values(group_size=alerts.c.group_size + 1))
    chain.append(now, SYSTEM_ACTOR, "alert.grouped", f"alert:{member.id}",
                 {"lead": lead_id, "reason": reason, "post_id": member.post_id})
    chain.append(now, SYSTEM_ACTOR, "alert.member_attached", f"alert:{lead_id}",
                 {"member": member.id, "reason": reason, "post_id": member.post_id})


def members_of(conn: Connection, lead_id: str, active_only: bool = False) -> list[Alert]:
    stmt = select(alerts).where(alerts.c.group_id == lead_id)
    if active_only:
        stmt = stmt.where(alerts.c.status.in_(ACTIVE_STATUSES))
    return [alert_from_row(r) for r in conn.execute(stmt.order_by(alerts.c.opened_at, alerts.c.id).with_for_update())]


def decide_members(conn: Connection, chain: AuditChain, lead: Alert, actor: str, now: datetime) -> list[str]:
    """One decision for the group: each active member takes the lead's review state, with its
    own `alert.decided` event naming the lead. Returns the member ids decided."""
    done = []
    for m in members_of(conn, lead.id, active_only=True):
        conn.execute(update(alerts).where(alerts.c.id == m.id).values({k: getattr(lead, k) for k in REVIEW_FIELDS}))
        chain.append(now, actor, "alert.decided", f"alert:{m.id}", {
            "action": lead.decision, "note": lead.decision_note,
            "disposition": lead.outcome if lead.decision == "confirm" else None,
            "reason": lead.outcome if lead.decision == "dismiss" else None,
            "from": m.status, "to": lead.status, "via_group": lead.id,
        })
        done.append(m.id)
    return done
