"""Searching the post index, audited the same way from the API and the console."""
from __future__ import annotations

from datetime import datetime

from api.deps import as_utc
from api.schemas import SearchHitOut, SearchOut
from api.services import audit
from search.index import SearchQuery

# The longest query either front end accepts.
MAX_QUERY_LENGTH = 1000


def run_search(svc, actor: str, *, q: str, category: str | None, source: str | None,
               published_from: datetime | None, published_to: datetime | None,
               limit: int, cursor: str | None) -> SearchOut:
    """One page of hits, recorded in the audit trail as `search.performed` with who and what."""
    query = SearchQuery(
        q=q, category=category or None, source=source or None,
        published_from=as_utc(published_from), published_to=as_utc(published_to),
        limit=limit, cursor=cursor or None,
        facets=not cursor,  # a later page's facets are the first page's: not worth counting again
    )
    result = svc.index.search(query)
    audit.record(svc, "search.performed", actor, subject=None, data={
        "q": q, "category": category, "source": source,
        "from": published_from.isoformat() if published_from else None,
        "to": published_to.isoformat() if published_to else None,
        "total": result.total,
    })
    return SearchOut(
        total=result.total,
        total_relation=result.total_relation,
        facets_estimated=result.facets_estimated,
        hits=[SearchHitOut.from_hit(h) for h in result.hits],
        facets=result.facets,
        next_cursor=result.next_cursor,
    )
