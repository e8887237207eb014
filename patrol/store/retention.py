"""Retention's reads and deletes in the workflow database: posts that raised no alert, first seen
before a cutoff, go with their versions. A post with an alert (open, decided, confirmed: its
evidence) is never touched here, nor is a post an officer labelled (training data, issue 15); a
purged post leaves the recall sample it was drawn into but never labelled."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select, update

from patrol.store.database import Database
from patrol.store.engine import chunks
from patrol.store.label_schema import post_labels, recall_samples
from patrol.store.schema import alerts, post_versions, posts


def _purgeable(cutoff: datetime):
    no_alert = ~exists().where(alerts.c.post_id == posts.c.id)
    no_label = ~exists().where(post_labels.c.post_id == posts.c.id)
    return (posts.c.first_seen < cutoff) & no_alert & no_label


class RetentionRepository:
    def __init__(self, db: Database):
        self._db = db

    def purgeable_post_ids(self, cutoff: datetime, limit: int = 500) -> list[str]:
        with self._db.read() as conn:
            rows = conn.execute(select(posts.c.id).where(_purgeable(cutoff))
                                .order_by(posts.c.first_seen, posts.c.id).limit(limit))
            return [r.id for r in rows]

    def purge_posts(self, post_ids: list[str], cutoff: datetime) -> dict[str, int]:
        """Delete those of `post_ids` that still qualify, in one transaction, and mark the others
        (an alert opened meanwhile) unindexed: the caller took them out of the index already."""
        gone = {"posts": 0, "versions": 0}
        with self._db.write() as conn:
            for chunk in chunks(post_ids, 500):
                eligible = [r.id for r in conn.execute(
                    select(posts.c.id).where(posts.c.id.in_(chunk), _purgeable(cutoff)))]
                if eligible:
                    conn.execute(delete(recall_samples).where(recall_samples.c.post_id.in_(eligible)))
                    gone["versions"] += conn.execute(
                        delete(post_versions).where(post_versions.c.post_id.in_(eligible))).rowcount
                    gone["posts"] += conn.execute(delete(posts).where(posts.c.id.in_(eligible))).rowcount
                kept = sorted(set(chunk) - set(eligible))
                if kept:
                    conn.execute(update(posts).where(posts.c.id.in_(kept)).values(indexed=False))
        return gone
