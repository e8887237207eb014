"""Watch-lists: read by everyone, changed by administrators, every change audited by the store."""
from __future__ import annotations

import re
from datetime import datetime

from api.opinion_schemas import WatchListIn, WatchListOut
from patrol.events.watchlists import WatchList, check_id, check_terms, safety_watch

SAMPLE = 2000   # recent posts a new term is tried against: one matching most of them is refused


def _out(w: WatchList) -> WatchListOut:
    return WatchListOut(id=w.id, name=w.name, description=w.description, terms=list(w.terms), active=w.active,
                        builtin=w.builtin, min_count=w.min_count, updated_by=w.updated_by, updated_at=w.updated_at)


def list_all(svc) -> list[WatchListOut]:
    return [_out(safety_watch())] + [_out(w) for w in svc.store.trends.watchlists()]


def _share_of(svc):
    texts = []
    for p in svc.store.iter_posts(page_size=500):
        texts.append(p.title + p.text)
        if len(texts) >= SAMPLE:
            break
    if len(texts) < 50:
        return None   # too few posts to judge a term's breadth by
    return lambda term: sum(term in t for t in texts) / len(texts)


def save(svc, actor: str, list_id: str, body: WatchListIn, at: datetime) -> tuple[WatchListOut, bool]:
    from patrol.events.watchlists import SAFETY_ID, WatchListError

    check_id(list_id)
    if list_id == SAFETY_ID:
        raise WatchListError("公共安全词表随产品发布，改动请走代码评审（patrol/data/safety_watch.yaml）")
    terms = check_terms(body.terms, _share_of(svc))
    w = WatchList(id=list_id, name=re.sub(r"\s+", " ", body.name).strip(), terms=terms,
                  description=body.description.strip(), active=body.active, min_count=body.min_count)
    saved, created = svc.store.trends.save_watchlist(w, actor, at)
    return _out(saved), created


def delete(svc, actor: str, list_id: str, at: datetime) -> None:
    svc.store.trends.delete_watchlist(list_id, actor, at)


