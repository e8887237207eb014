"""Counts per hour per key, the burst windows and the watch-lists: the trend side's repository."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, select, update

from patrol.alerts import Alert
from patrol.events.bursts import BurstVerdict
from patrol.events.schema import opinion_bursts, opinion_counts, watchlists
from patrol.events.watchlists import WatchList, WatchListError, check_id
from patrol.store.alerts import AlertRepository
from patrol.store.chain import AuditChain
from patrol.store.database import Database, findable
from patrol.store.engine import chunks, insert_ignore, insert_ignore_stmt
from patrol.store.records import NotFound, SaveReport

C = opinion_counts.c


class TrendStore:
    def __init__(self, db: Database):
        self._db = db
        self._alerts = AlertRepository(db)

    def add_counts(self, increments: Counter) -> None:
        """increments: (kind, key, hour) -> posts. One UPDATE per existing row: two ingest
        processes counting the same hour both count."""
        if not increments:
            return
        with self._db.write() as conn:
            for chunk in chunks(sorted(increments.items()), 500):
                conn.execute(insert_ignore_stmt(conn, opinion_counts),
                             [{"kind": k, "key": key, "hour": h, "n": 0} for (k, key, h), _n in chunk])
                # One statement, many rows: each row's UPDATE still adds to what is stored.
                conn.execute(update(opinion_counts).where(C.kind == bindparam("k"), C.key == bindparam("kk"),
                                                          C.hour == bindparam("h")).values(n=C.n + bindparam("d")),
                             [{"k": k, "kk": key, "h": h, "d": n} for (k, key, h), n in chunk])

    def counts_at(self, kind: str, key: str, hours: list[datetime]) -> dict[datetime, int]:
        with self._db.read() as conn:
            rows = conn.execute(select(C.hour, C.n).where(C.kind == kind, C.key == key, C.hour.in_(hours))).all()
        return {r.hour: r.n for r in rows}

    def series(self, kind: str, key: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
        """Posts per hour from `start` to `end` (hour starts, both included), zeros filled."""
        with self._db.read() as conn:
            got = {r.hour: r.n for r in conn.execute(select(C.hour, C.n).where(
                C.kind == kind, C.key == key, C.hour >= start, C.hour <= end))}
        out, t = [], start
        while t <= end:
            out.append((t, got.get(t, 0)))
            t += timedelta(hours=1)
        return out

    def top_keys(self, kind: str, since: datetime, limit: int, offset: int = 0) -> tuple[list[tuple[str, int]], int]:
        with self._db.read() as conn:
            rows = conn.execute(select(C.key, func.sum(C.n).label("n")).where(C.kind == kind, C.hour >= since)
                                .group_by(C.key).order_by(func.sum(C.n).desc(), C.key)).all()
        return [(r.key, int(r.n)) for r in rows][offset:offset + limit], len(rows)

    def open_burst(self, kind: str, key: str, start: datetime, verdict: BurstVerdict, alert: Alert,
                   label: str, now: datetime) -> bool:
        """Record the burst window and open its alert, in one transaction; False when this window
        already raised one (whoever raised it)."""
        with self._db.write() as conn:
            row = {"kind": kind, "key": key, "window_start": start, "alert_id": alert.id,
                   "current": verdict.current, "expected": verdict.expected, "label": label}
            if insert_ignore(conn, opinion_bursts, row) != 1:
                return False
            self._alerts.open_in(conn, AuditChain(conn, self._db.audit_key), alert, {}, now, SaveReport())
        return True

    def bursts(self, since: datetime, until: datetime | None = None) -> list:
        cond = [opinion_bursts.c.window_start >= since]
        if until:
            cond.append(opinion_bursts.c.window_start < until)
        with self._db.read() as conn:
            return conn.execute(select(opinion_bursts).where(and_(*cond))
                                .order_by(opinion_bursts.c.window_start.desc())).all()

    # -- watch-lists ----------------------------------------------------------------------------

    def watchlists(self, active_only: bool = False) -> list[WatchList]:
        with self._db.read() as conn:
            rows = conn.execute(select(watchlists).order_by(watchlists.c.id)).all()
        out = [WatchList(id=r.id, name=r.name, description=r.description, terms=tuple(r.terms), active=r.active,
                         updated_by=r.updated_by, updated_at=r.updated_at, min_count=r.min_count) for r in rows]
        return [w for w in out if w.active] if active_only else out

    def get_watchlist(self, list_id: str) -> WatchList:
        for w in self.watchlists():
            if w.id == list_id:
                return w
        raise NotFound(f"watch-list {list_id!r} not found")

    def save_watchlist(self, w: WatchList, actor: str, now: datetime) -> tuple[WatchList, bool]:
        """Create or replace a list (terms already checked); audited `watchlist.changed` with the
        terms before and after. Returns (list, created)."""
        check_id(w.id)
        values = {"id": w.id, "name": w.name, "description": w.description, "terms": list(w.terms),
                  "active": w.active, "min_count": w.min_count, "updated_by": actor, "updated_at": now}
        with self._db.write() as conn:
            chain = AuditChain(conn, self._db.audit_key)
            old = conn.execute(select(watchlists).where(watchlists.c.id == w.id).with_for_update()).first()
            if old is None:
                conn.execute(watchlists.insert().values(values))
            else:
                conn.execute(update(watchlists).where(watchlists.c.id == w.id).values(values))
            chain.append(now, actor, "watchlist.changed", f"watchlist:{w.id}", {
                "change": "created" if old is None else "updated", "name": w.name, "active": w.active,
                "terms_before": list(old.terms) if old is not None else [], "terms_after": list(w.terms)})
        return self.get_watchlist(w.id), old is None

    def delete_watchlist(self, list_id: str, actor: str, now: datetime) -> None:
        if not findable(list_id):
            raise NotFound(f"watch-list {list_id!r} not found")
        with self._db.write() as conn:
            old = conn.execute(select(watchlists).where(watchlists.c.id == list_id).with_for_update()).first()
            if old is None:
                raise NotFound(f"watch-list {list_id!r} not found")
            conn.execute(watchlists.delete().where(watchlists.c.id == list_id))
            AuditChain(conn, self._db.audit_key).append(now, actor, "watchlist.changed", f"watchlist:{list_id}",
                                    {"change": "deleted", "name": old.name, "terms_before": list(old.terms)})


__all__ = ["TrendStore", "WatchListError"]
