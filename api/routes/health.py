"""GET /healthz and GET /metrics: for the operators' probes, no login."""
from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import services
from patrol.index_identity import check_index

log = logging.getLogger("patrol.api")
router = APIRouter(tags=["operations"])


def _probe(name: str, fn) -> tuple[bool, str]:
    try:
        fn()
        return True, "ok"
    except Exception as exc:  # a probe reports every failure, it does not raise it
        log.warning("healthz: %s unreachable: %s", name, exc)
        return False, f"{type(exc).__name__}: {exc}"


def _index_ok(svc) -> None:
    """Reachable, and this store's own index, not one left empty or swapped in (patrol/index_identity.py)."""
    svc.index.count()
    check_index(svc.store, svc.index, adopt=False)


@router.get("/healthz", summary="Database and index reachable")
def healthz(svc=Depends(services)):
    checks = {
        "database": _probe("database", svc.store.counts),
        "index": _probe("index", lambda: _index_ok(svc)),
    }
    body = {name: detail for name, (_, detail) in checks.items()}
    if all(ok for ok, _ in checks.values()):
        return {"status": "ok", **body}
    return JSONResponse({"status": "unavailable", "detail": body}, status_code=503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request):
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
