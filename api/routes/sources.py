"""GET /api/sources: each source's collection health, from the store."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import Caller, READERS_DEP, services
from api.schemas import SourceHealthOut
from api.services.sources import source_rows

router = APIRouter(prefix="/api", tags=["sources"])


@router.get("/sources", response_model=list[SourceHealthOut], summary="Source health: last success, items, errors, gaps")
def list_sources(caller: Caller = READERS_DEP, svc=Depends(services)) -> list[SourceHealthOut]:
    return source_rows(svc)
