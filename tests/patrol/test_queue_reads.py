"""The queue's reads at speed (issue 11): one status at a time from an index, merged; the counts
in one grouped read. These check that the faster reads still answer what the slow ones did: the
same order across statuses, every alert once across pages, counts of cases not members."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from patrol.alerts import ACTIVE_STATUSES
from patrol.reviews import Decision
from patrol.store import AlertFilter
from patrol.store.alert_query import SORTS, alert_conditions
from patrol.store.schema import alerts

CATEGORIES = ("self_harm", "fraud", "drugs", "gambling", "abuse_hate", "violence_terror")


@pytest.fixture
def mixed(store, people, make, rules):
    """Twelve alerts of several severities spread over open, claimed, escalated and dismissed."""
    out = []
    for i in range(12):
        _, a = make.post_with_alert(store, rules, external_id=f"m{i}", labels=(CATEGORIES[i % len(CATEGORIES)],),
                                    now=make.now + timedelta(minutes=i), text=f"混合队列 第{i}帖")
        out.append(a)
    for a in out[0:4]:
        store.claim(a.id, "li", make.now)
    store.claim(out[4].id, "li", make.now)
    store.decide(out[4].id, Decision("escalate", note="请主管看"), "li", make.now)
    store.claim(out[5].id, "wang", make.now)
    store.decide(out[5].id, Decision("dismiss", reason="counter_speech"), "wang", make.now)
    return out


def _pages(store, flt):
    items, cursor = [], None
    while True:
        page = store.list_alerts(AlertFilter(**{**flt.__dict__, "cursor": cursor}))
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items


def _order_in_sql(store, flt):
    """The same filter's order as one query with status IN (...) sorts it: the reference."""
    keys = SORTS[flt.sort]
    stmt = (sa.select(alerts.c.id).where(*alert_conditions(flt))
            .order_by(*[(c.desc() if d else c.asc()) for c, d in keys]))
    with store.engine.connect() as conn:
        return list(conn.execute(stmt).scalars())


@pytest.mark.parametrize("sort", sorted(SORTS))
@pytest.mark.parametrize("status", [ACTIVE_STATUSES, None])
def test_pages_across_statuses_keep_one_order_and_every_alert_once(store, mixed, sort, status):
    flt = AlertFilter(status=status, sort=sort, limit=2)
    ids = [a.id for a in _pages(store, flt)]
    assert len(ids) == len(set(ids)) == (11 if status else 12)
    assert ids == _order_in_sql(store, AlertFilter(status=status, sort=sort, limit=500))


def test_counts_are_of_cases_per_status_severity_and_overdue(store, mixed, make):
    counts = store.queue_counts(AlertFilter(status=ACTIVE_STATUSES), make.now + timedelta(days=30))
    assert counts.by_status == {"open": 6, "claimed": 4, "escalated": 1}
    assert sum(counts.by_severity.values()) == 11 and counts.overdue == 11
    narrowed = store.queue_counts(AlertFilter(status=ACTIVE_STATUSES, severity="critical"), make.now)
    critical = sum(1 for a in mixed if a.severity == "critical" and a.id != mixed[5].id)
    assert sum(narrowed.by_status.values()) == critical and narrowed.by_severity == counts.by_severity
    decided = store.queue_counts(AlertFilter(status="dismissed"), make.now)
    assert decided.by_status["dismissed"] == 1 and decided.overdue == 0
    assert sum(decided.by_severity.values()) == 1


def test_sqlite_reads_a_queue_page_from_an_index_without_sorting(tmp_path):
    """The plan, not the clock: one status of the default sort is a range of
    ix_alerts_status_due with no temporary B-tree, so the read stops after a page."""
    from patrol.store import Store

    store = Store(f"sqlite:///{tmp_path / 'plan.db'}", password_rounds=4)
    keys = SORTS["severity_then_due"]
    stmt = (sa.select(alerts.c.id, alerts.c.severity_rank, alerts.c.due_at)
            .where(*alert_conditions(AlertFilter(status=("open",))))
            .order_by(*[c.asc() for c, _ in keys]).limit(51))
    sql = str(stmt.compile(store.engine, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn:
        plan = " | ".join(r[-1] for r in conn.execute(sa.text("EXPLAIN QUERY PLAN " + sql)))
    store.close()
    assert "ix_alerts_status_due" in plan and "TEMP B-TREE" not in plan, plan
