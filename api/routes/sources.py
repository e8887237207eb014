"""GET /api/sources: each source's collection health, from the store."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import Caller, READERS_DEP, services
from api.schemas import SourceHealthOut

router = APIRouter(prefix="/api", tags=["sources"])


def source_rows(svc) -> list[SourceHealthOut]:
    return [SourceHealthOut(source=h.source, last_pass_at=h.last_pass_at, last_success_at=h.last_success_at,
                            items_last_pass=h.items_last_pass, errors_last_pass=dict(h.errors_last_pass),
                            consecutive_empty=h.consecutive_empty, passes=h.passes)
            for h in svc.store.source_health()]


@router.get("/sources", response_model=list[SourceHealthOut], summary="Source health: last success, items, errors, gaps")
def list_sources(caller: Caller = READERS_DEP, svc=Depends(services)) -> list[SourceHealthOut]:
    return source_rows(svc)
