"""The alert queue's filters, sort orders and cursors (keyset pagination, stable under inserts)."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Integer, bindparam, exists, or_, select, tuple_

from patrol.alerts import STATUSES
from patrol.posts import text_problem
from patrol.store.records import AlertFilter, InvalidFilter
from patrol.store.schema import UTCDateTime, alert_labels, alerts
from patrol.taxonomy import SEVERITY_RANK

SORTS = {
    # sort -> ((column, descending), ...); the alert id breaks ties so the order is total.
    "severity_then_due": ((alerts.c.severity_rank, False), (alerts.c.due_at, False), (alerts.c.id, False)),
    "newest": ((alerts.c.opened_at, True), (alerts.c.id, True)),
    "oldest": ((alerts.c.opened_at, False), (alerts.c.id, False)),
    "due": ((alerts.c.due_at, False), (alerts.c.id, False)),
}


def alert_conditions(f: AlertFilter, stops_early: bool = False) -> list:
    """The filter as WHERE conditions. `stops_early`: the read walks an index in the sort's order
    and stops after a page, so the 类别 filter probes each row's labels (a few hundred probes)
    instead of first listing every alert of the label (thousands), which suits a full count."""
    # Grouped members stay out of the queue, but a search for words finds them too (their page
    # leads to their group's lead).
    conds = [] if (f.members or f.q) else [alerts.c.group_id.is_(None)]
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
    for name in ("category", "source", "assignee", "q"):
        value = getattr(f, name)
        if value and text_problem(value):
            raise InvalidFilter(f"{name} {text_problem(value)}")
    if f.category:
        # Any label, not only the lead one: the 菠.菜 ad led as 诈骗 is a 赌博 alert too.
        if stops_early:
            conds.append(exists().where(alert_labels.c.alert_id == alerts.c.id, alert_labels.c.label == f.category))
        else:
            conds.append(alerts.c.id.in_(select(alert_labels.c.alert_id).where(alert_labels.c.label == f.category)))
    for name in ("source", "assignee"):
        value = getattr(f, name)
        if value:
            conds.append(alerts.c[name] == value)
    if f.q:
        conds.append(or_(alerts.c.title.icontains(f.q, autoescape=True),
                         alerts.c.text.icontains(f.q, autoescape=True)))
    if f.opened_from is not None:
        conds.append(alerts.c.opened_at >= utc_time("opened_from", f.opened_from))
    if f.opened_to is not None:
        conds.append(alerts.c.opened_at < utc_time("opened_to", f.opened_to))
    return conds


def utc_time(name: str, value: datetime) -> datetime:
    """`value` in UTC, as the database compares it; a naive time, or one whose UTC falls outside
    the years 1-9999 (0001-01-01T00:00+14:00), is the caller's mistake, not the database's."""
    if value.tzinfo is None:
        raise InvalidFilter(f"{name} must carry a time zone, got {value.isoformat()}")
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise InvalidFilter(f"{name} {value.isoformat()} is out of range in UTC") from None


def rows_after(keys, values) -> Any:
    """Rows strictly after `values` in the order of `keys` (keyset pagination, stable under inserts).
    One row-value comparison, `(k1, k2, id) > (v1, v2, v3)`: SQLite and PostgreSQL both read it as
    a range of the index holding those columns, where the equivalent OR of ANDs is a filter over
    every row. Every sort runs all its keys one way (SORTS), so one comparison says it."""
    directions = {desc for _, desc in keys}
    if len(directions) != 1:
        raise ValueError("a keyset sort must run every key the same way")
    row = tuple_(*(col for col, _ in keys))
    after = tuple_(*(bindparam(None, v, type_=col.type) for (col, _), v in zip(keys, values)))
    return row < after if directions == {True} else row > after


def encode_cursor(sort: str, values: list) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps({"s": sort, "v": plain}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, keys) -> list:
    # The messages say what is wrong in words; the exception behind one is no concern of the caller's.
    start_again = "start again from the first page"
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise InvalidFilter(f"cursor is not one this server issued: it is not readable; {start_again}") from None
    if not isinstance(data, dict) or not isinstance(data.get("v"), list) or not isinstance(data.get("s"), str):
        raise InvalidFilter(f"cursor is not one this server issued: it lacks its sort or position; {start_again}")
    if data["s"] != sort or len(data["v"]) != len(keys):
        raise InvalidFilter(f"cursor belongs to sort {data['s'][:40]!r}, not {sort!r}; {start_again}")
    try:
        return [_cursor_value(col, v) for (col, _), v in zip(keys, data["v"])]
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidFilter(f"cursor is not one this server issued: its position is not valid ({exc}); "
                            f"{start_again}") from None


def _cursor_value(col, v) -> Any:
    """A cursor value of the column's type, or TypeError/ValueError: a forged cursor must fail
    here, not as a type or range error inside the database."""
    if isinstance(col.type, UTCDateTime):
        return utc_time("cursor", datetime.fromisoformat(v))
    if isinstance(col.type, Integer):
        if type(v) is not int or not -2**31 <= v < 2**31:
            raise TypeError(f"{col.name} must be a 32-bit integer")
        return v
    if not isinstance(v, str) or text_problem(v):
        raise TypeError(f"{col.name} must be text")
    return v
