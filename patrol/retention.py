"""Retention: what is kept, for how long, and the purge that enforces it.

Posts that raised no alert are purged `posts_without_alert_days` after they were first seen
(PATROL_RETENTION__POSTS_WITHOUT_ALERT_DAYS; 0 keeps them). A post with an alert is kept, with its
versions: it is the evidence of the alert, and confirmed alerts must be provable later. Each step
that ran is one `retention.purged` audit event with its counts. `patrol retention run` runs the
steps once, `patrol serve` on a schedule (PATROL_RETENTION__INTERVAL_HOURS).

The steps are a list (STEPS) so that another kind of data gets its own period by adding one
function: raw fetched pages (kept by another part of Patrol) purge after their own period, and
keep those of confirmed alerts, as a step appended here.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from patrol.settings import RetentionSettings
from search.index import IndexUnavailable

log = logging.getLogger(__name__)

RETENTION_ACTOR = "system"
_BATCH = 500


@dataclass(frozen=True)
class RetentionContext:
    store: Any
    index: Any  # the search index (purged posts leave it first)
    settings: RetentionSettings
    now: datetime


@dataclass(frozen=True)
class StepResult:
    name: str
    counts: dict[str, Any]


# A step returns its counts, or None when its period is 0 (off): no audit event then.
RetentionStep = Callable[[RetentionContext], "dict[str, Any] | None"]


def purge_posts_without_alert(ctx: RetentionContext) -> dict[str, Any] | None:
    """Posts with no alert, first seen more than N days ago: out of the index, then out of the
    store. The index goes first so a purged post is never left searchable; if the index is down
    (IndexUnavailable) the step stops, says so in `stopped`, and the rest stays until the next run."""
    days = ctx.settings.posts_without_alert_days
    if not days:
        return None
    cutoff = ctx.now - timedelta(days=days)
    counts = {"posts": 0, "versions": 0, "days": days, "cutoff": cutoff.isoformat()}
    while ids := ctx.store.purgeable_post_ids(cutoff, limit=_BATCH):
        try:
            ctx.index.remove(ids)
        except IndexUnavailable as exc:
            counts["stopped"] = f"the index is unavailable: {exc}"
            break
        gone = ctx.store.purge_posts(ids, cutoff)
        counts["posts"] += gone["posts"]
        counts["versions"] += gone["versions"]
        if not gone["posts"]:  # every one got an alert meanwhile: nothing left to do in this run
            break
    return counts


def purge_fetched_pages(ctx: RetentionContext) -> dict[str, Any] | None:
    """Fetched pages kept as evidence (patrol/evidence.py), older than their own period, that no
    active alert needs."""
    from patrol.evidence import purge_pages

    days = ctx.settings.pages_days
    if not days:
        return None
    return {"pages": purge_pages(ctx.store, days, ctx.now), "days": days}


# The steps in order, each (name, function).
STEPS: list[tuple[str, RetentionStep]] = [
    ("posts_without_alert", purge_posts_without_alert),
    ("fetched_pages", purge_fetched_pages),
]


def run_retention(store, index, settings: RetentionSettings, now: datetime,
                  steps: list[tuple[str, RetentionStep]] | None = None) -> list[StepResult]:
    """Run every step; each one that ran is audited as `retention.purged` with its counts."""
    ctx = RetentionContext(store, index, settings, now)
    results = []
    for name, step in steps if steps is not None else STEPS:
        counts = step(ctx)
        if counts is None:
            continue
        store.record_event(RETENTION_ACTOR, "retention.purged", f"retention:{name}", {"step": name, **counts}, now)
        log.info("retention %s: %s", name, counts)
        results.append(StepResult(name, counts))
    return results
