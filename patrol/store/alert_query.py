"""The alert queue's filters, sort orders and cursors (keyset pagination, stable under inserts)."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_

from patrol.alerts import STATUSES
from patrol.store.records import AlertFilter, InvalidFilter
from patrol.store.schema import UTCDateTime, alerts
from patrol.taxonomy import SEVERITY_RANK

SORTS = {
    # sort -> ((column, descending), ...); the alert id breaks ties so the order is total.
    "severity_then_due": ((alerts.c.severity_rank, False), (alerts.c.due_at, False), (alerts.c.id, False)),
    "newest": ((alerts.c.opened_at, True), (alerts.c.id, True)),
    "oldest": ((alerts.c.opened_at, False), (alerts.c.id, False)),
    "due": ((alerts.c.due_at, False), (alerts.c.id, False)),
}


def alert_conditions(f: AlertFilter) -> list:
    conds = []
    if f.status:
        wanted = (f.status,) if isinstance(f.status, str) else tuple(f.status)
        bad = [s for s in wanted if s not in STATUSES]
        if bad:
            raise InvalidFilter(f"status must be among {', '.join(STATUSES)}, got {bad[0]!r}")
        conds.append(alerts.c.status.in_(wanted))
    if f.severity:
        if f.severity not in SEVERITY_RANK:
            raise InvalidFilter(f"severity must be one of {', '.join(SEVERITY_RANK)}, got {f.severity!r}")
        conds.append(alerts.c.severity == f.severity)
    for name in ("category", "source", "assignee"):
        value = getattr(f, name)
        if value:
            conds.append(alerts.c[name] == value)
    if f.q:
        conds.append(or_(alerts.c.title.icontains(f.q, autoescape=True),
                         alerts.c.text.icontains(f.q, autoescape=True)))
    for name, value in (("opened_from", f.opened_from), ("opened_to", f.opened_to)):
        if value is not None and value.tzinfo is None:
            raise InvalidFilter(f"{name} must carry a time zone, got {value.isoformat()}")
    if f.opened_from is not None:
        conds.append(alerts.c.opened_at >= f.opened_from)
    if f.opened_to is not None:
        conds.append(alerts.c.opened_at < f.opened_to)
    return conds


def rows_after(keys, values) -> Any:
    """Rows strictly after `values` in the order of `keys` (keyset pagination, stable under inserts)."""
    clauses = []
    for i, (col, desc) in enumerate(keys):
        beyond = col < values[i] if desc else col > values[i]
        clauses.append(and_(*[keys[j][0] == values[j] for j in range(i)], beyond))
    return or_(*clauses)


def encode_cursor(sort: str, values: list) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps({"s": sort, "v": plain}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, keys) -> list:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if data["s"] != sort or len(data["v"]) != len(keys):
            raise InvalidFilter(f"cursor belongs to sort {data['s']!r}, not {sort!r}")
        values = []
        for (col, _), v in zip(keys, data["v"]):
            values.append(datetime.fromisoformat(v) if isinstance(col.type, UTCDateTime) else v)
        return values
    except InvalidFilter:
        raise
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidFilter(f"cursor is not one this server issued ({exc.__class__.__name__})") from None
