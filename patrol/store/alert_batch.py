"""Opening a batch's alerts with a handful of statements instead of ten per alert.

`AlertRepository.open_in` opens one alert: a lookup of its group's lead, an insert, one insert
per group key, its labels, the lead's count, and its audit events. An ingest batch of 256 posts
opens tens of alerts, and those round trips were half the store's time (bench/ingest_bench.py).
`open_batch` gives the same result with reads and writes per batch:

1. every alert's group keys are computed first (pure, patrol/grouping.py);
2. one read (per 500 keys) loads the active leads holding any of them, one the alerts already
   stored under these ids or posts;
3. the alerts are then decided IN ORDER, in memory, by groups.Leads.find, the rule groups.find_lead applies, over
   what was read plus what the batch itself opened before (an alert opened earlier in the batch
   can be a later one's lead, exactly as when they were opened one by one);
4. the rows go in with one multi-row insert per table, the leads' counts with one update, and the
   audit events in order through AuditChain.batch.

Why the snapshot is safe: every writer that opens or decides an alert holds the audit chain's head
row first (SQLite: BEGIN IMMEDIATE; PostgreSQL: FOR UPDATE), and the caller took it before
calling this, so no lead can change status and no alert can appear between the read and the writes.
The result is tested equal, row for row and event for event, to open_in one by one
(tests/patrol/test_alert_batch.py). Ops alerts (no post, no group) still go through open_in.
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.engine import Connection

from patrol.alerts import Alert
from patrol.grouping import group_keys
from patrol.store.chain import AuditChain
from patrol.store.database import SYSTEM_ACTOR
from patrol.store.engine import chunks
from patrol.store import groups
from patrol.store.records import SaveReport
from patrol.store.rows import alert_values, locked_posts
from patrol.store.schema import alert_group_keys, alert_labels, alerts
from patrol.taxonomy import SEVERITY_RANK

_ADD_TO_GROUP = (update(alerts).where(alerts.c.id == bindparam("b_id"))
                 .values(group_size=alerts.c.group_size + bindparam("b_n")))


def _stored(conn: Connection, batch: Sequence[Alert]) -> tuple[set[str], set[str]]:
    """(alert ids, post ids) of the batch that already have an alert row."""
    ids, post_ids = set(), set()
    for chunk in chunks(list(batch), 250):
        rows = conn.execute(select(alerts.c.id, alerts.c.post_id).where(or_(
            alerts.c.id.in_([a.id for a in chunk]),
            alerts.c.post_id.in_([a.post_id for a in chunk if a.post_id is not None]))))
        for r in rows:
            ids.add(r.id)
            post_ids.add(r.post_id)
    return ids, post_ids


def open_batch(repo, conn: Connection, chain: AuditChain, alerts_in: Sequence[Alert], versions: dict[str, int],
               now: datetime, report: SaveReport, threads: dict[str, str]) -> None:
    """Open `alerts_in` in order inside the caller's transaction (Store.save_batch's), with the
    result open_in would give one by one. `repo`: the AlertRepository, for ops alerts."""
    for a in alerts_in:
        if a.status != "open":
            raise ValueError(f"alert {a.id} must be opened with status 'open', not {a.status!r}")
    post_alerts = [a for a in alerts_in if not a.is_ops]
    unknown = {a.post_id for a in post_alerts if a.post_id is not None and a.post_id not in versions}
    if unknown:
        stored = locked_posts(conn, sorted(unknown))
        missing = [a for a in post_alerts if a.post_id in unknown and a.post_id not in stored]
        if missing:
            raise ValueError(f"alert {missing[0].id} is about post {missing[0].post_id}, which is neither "
                             "stored nor in this batch")
    grouping = {a.id: group_keys(a, threads.get(a.post_id, "")) for a in post_alerts}
    leads = groups.load_leads(conn, {k for keys, _ in grouping.values() for k, _ in keys})
    taken_ids, taken_posts = _stored(conn, post_alerts)
    rows, label_rows, key_rows, grown = [], [], [], {}
    by_id: dict[str, dict] = {}
    for a in alerts_in:
        if a.is_ops:
            repo.open_in(conn, chain, a, versions, now, report)
            continue
        if a.id in taken_ids or (a.post_id is not None and a.post_id in taken_posts):
            report.skipped_alert_ids.append(a.id)  # what the unique constraints would refuse
            continue
        taken_ids.add(a.id)
        taken_posts.add(a.post_id)
        keys, signature = grouping[a.id]
        lead = leads.find(keys, signature, a.severity) if keys else None
        values = alert_values(a)
        if lead is not None:
            values["group_id"] = lead[0]
        if a.post_id in versions:
            values["post_version"] = versions[a.post_id]
        rows.append(values)
        by_id[a.id] = values
        holder = lead[0] if lead else a.id
        if lead is None:
            leads.info[a.id] = (SEVERITY_RANK[a.severity], a.opened_at)
        for key, _reason in keys:
            held = leads.holders.setdefault(key, {})
            if holder not in held:  # the key table's primary key (key, alert_id): the first one stays
                held[holder] = signature
                key_rows.append({"key": key, "alert_id": holder, "signature": signature})
        label_rows += [{"alert_id": a.id, "label": label} for label in dict.fromkeys(a.labels or (a.category,))]
        chain.append(now, SYSTEM_ACTOR, "alert.opened", f"alert:{a.id}", {
            "post_id": a.post_id, "source": a.source, "category": a.category, "labels": list(a.labels),
            "severity": a.severity, "score": a.score, "rule": a.rule, "due_at": a.due_at.isoformat(),
            "content_sha256": a.content_sha256, "text": None,
        })
        if lead is not None:
            if lead[0] in by_id:
                by_id[lead[0]]["group_size"] += 1  # a lead opened in this batch goes in with its count
            else:
                grown[lead[0]] = grown.get(lead[0], 0) + 1
            chain.append(now, SYSTEM_ACTOR, "alert.grouped", f"alert:{a.id}",
                         {"lead": lead[0], "reason": lead[1], "post_id": a.post_id})
            chain.append(now, SYSTEM_ACTOR, "alert.member_attached", f"alert:{lead[0]}",
                         {"member": a.id, "reason": lead[1], "post_id": a.post_id})
        report.opened_alert_ids.append(a.id)
    if rows:
        conn.execute(alerts.insert(), rows)
        conn.execute(alert_labels.insert(), label_rows)
    if key_rows:
        conn.execute(alert_group_keys.insert(), key_rows)
    if grown:
        conn.execute(_ADD_TO_GROUP, [{"b_id": lead_id, "b_n": n} for lead_id, n in grown.items()])
