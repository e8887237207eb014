"""GET /api/search: the post index, in the query language of INTERFACES.md."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query

from api import audit_trail
from api.deps import Caller, READERS_DEP, as_utc, services
from api.schemas import SearchHitOut, SearchOut
from search.index import SearchQuery

router = APIRouter(prefix="/api", tags=["search"])

MAX_QUERY_LENGTH = 1000


def run_search(svc, caller: Caller, *, q: str, category: str | None, source: str | None,
               published_from: datetime | None, published_to: datetime | None,
               limit: int, cursor: str | None) -> SearchOut:
    """Shared by the API and the console, so both audit the search the same way."""
    query = SearchQuery(
        q=q, category=category or None, source=source or None,
        published_from=as_utc(published_from), published_to=as_utc(published_to),
        limit=limit, cursor=cursor or None,
        facets=not cursor,  # a later page's facets are the first page's: not worth counting again
    )
    result = svc.index.search(query)
    audit_trail.record(svc, "search.performed", caller.username, subject=None, data={
        "q": q, "category": category, "source": source,
        "from": published_from.isoformat() if published_from else None,
        "to": published_to.isoformat() if published_to else None,
        "total": result.total,
    })
    return SearchOut(
        total=result.total,
        hits=[SearchHitOut.from_hit(h) for h in result.hits],
        facets=result.facets,
        next_cursor=result.next_cursor,
    )


@router.get("/search", response_model=SearchOut, summary="Search posts")
def search_posts(
    q: str = Query("", max_length=MAX_QUERY_LENGTH, description="the query language: words, \"phrases\", OR, -x, (…), field:value"),
    category: str | None = Query(None, max_length=64),
    source: str | None = Query(None, max_length=200),
    published_from: datetime | None = Query(None, alias="from"),
    published_to: datetime | None = Query(None, alias="to"),
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = Query(None, max_length=500),
    caller: Caller = READERS_DEP,
    svc=Depends(services),
) -> SearchOut:
    return run_search(svc, caller, q=q, category=category, source=source,
                      published_from=published_from, published_to=published_to,
                      limit=limit, cursor=cursor)
