"""A stored post with its versions and the id of its alert, if it has one."""
from __future__ import annotations

from api.schemas import PostOut, PostVersionOut
from patrol.alerts import alert_id_for_post
from patrol.store import NotFound


def load_post(svc, post_id: str) -> PostOut:
    p = svc.store.get_post(post_id)
    if p is None:
        raise NotFound(f"no post with id {post_id!r}")
    alert_id = alert_id_for_post(p.id)
    return PostOut(
        id=p.id, source=p.source, external_id=p.external_id, url=p.url, title=p.title, text=p.text,
        author=p.author, published_at=p.published_at, fetched_at=p.fetched_at, first_seen=p.first_seen,
        content_sha256=p.content_sha256, deleted_upstream=p.deleted_upstream, primary=p.primary,
        labels=list(p.labels), analysis=p.analysis, version=p.version,
        versions=[PostVersionOut(version=v.version, title=v.title, text=v.text,
                                 content_sha256=v.content_sha256, fetched_at=v.fetched_at)
                  for v in svc.store.post_versions(p.id)],
        alert_id=alert_id if svc.store.get_alert(alert_id) is not None else None,
    )
