"""Watch-lists: GET /api/watchlists (everyone), PUT and DELETE /api/watchlists/{id} (admins);
every change audited as `watchlist.changed` with the terms before and after."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Response


from api.deps import ADMINS_DEP, Caller, READERS_DEP, now, services
from api.opinion_schemas import WatchListIn, WatchListOut
from api.services import watchlists as watchlist_service

router = APIRouter(prefix="/api", tags=["watchlists"])



@router.get("/watchlists", response_model=list[WatchListOut], summary="Watch-lists, the shipped public-safety one first")
def watchlists(caller: Caller = READERS_DEP, svc=Depends(services)) -> list[WatchListOut]:
    return watchlist_service.list_all(svc)


@router.put("/watchlists/{list_id}", response_model=WatchListOut, summary="Create or replace a watch-list (admin)")
def put_watchlist(list_id: str, body: WatchListIn, response: Response, caller: Caller = ADMINS_DEP,
                  svc=Depends(services)) -> WatchListOut:
    out, created = watchlist_service.save(svc, caller.username, list_id, body, now())
    response.status_code = 201 if created else 200
    return out


@router.delete("/watchlists/{list_id}", status_code=204, summary="Delete a watch-list (admin)")
def delete_watchlist(list_id: str, caller: Caller = ADMINS_DEP, svc=Depends(services)) -> Response:
    watchlist_service.delete(svc, caller.username, list_id, now())
    return Response(status_code=204)
