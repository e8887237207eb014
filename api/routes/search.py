"""GET /api/search: the post index, in the query language of search/README.md."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query

from api.deps import Caller, READERS_DEP, services
from api.schemas import SearchOut
from api.services.search import MAX_QUERY_LENGTH, run_search

router = APIRouter(prefix="/api", tags=["search"])


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
    return run_search(svc, caller.username, q=q, category=category, source=source,
                      published_from=published_from, published_to=published_to,
                      limit=limit, cursor=cursor)
