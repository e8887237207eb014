"""Live updates for the console by server-sent events: the queue and the alert page hear about
every change to alerts (any process's: the stream follows the audit chain, where every review
step and every opened alert is an event) and about the caller's notifications (a passed
deadline, for the supervisors on shift), without reloading.

Each stream lives at most STREAM_SECONDS and then ends; EventSource reconnects by itself with
the last event id, so nothing is missed and no server waits on a stream forever at shutdown.
"""
from __future__ import annotations

import asyncio
import json
import time

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.console_web import console_caller
from api.deps import Caller, services

router = APIRouter(prefix="/console", include_in_schema=False)

POLL_SECONDS = 1.0
STREAM_SECONDS = 50.0
RETRY_MS = 2000


def _event(kind: str, data: dict, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _cursor(value: str) -> tuple[int, int] | None:
    """The Last-Event-ID ("<audit seq>.<notification id>") a reconnecting EventSource sends."""
    try:
        seq, note = value.split(".")
        return int(seq), int(note)
    except ValueError:
        return None


@router.get("/live")
async def live(request: Request, after: str = Query("", max_length=40), caller: Caller = Depends(console_caller),
               svc=Depends(services)):
    store = svc.store
    start = _cursor(request.headers.get("last-event-id", "") or after)
    if start is None:
        # A new page: only what happens from now on (the page itself shows the present).
        seq = await run_in_threadpool(store.latest_audit_seq)
        notes = await run_in_threadpool(store.notifications_for, caller.username, 0, 1000)
        start = (seq, notes[-1]["id"] if notes else 0)
    stop = getattr(request.app.state, "stopping", None)

    async def stream():
        seq, note_id = start
        yield f"retry: {RETRY_MS}\n\n" + _event("hello", {"user": caller.username}, f"{seq}.{note_id}")
        ends = time.monotonic() + STREAM_SECONDS
        while time.monotonic() < ends and not (stop and stop.is_set()):
            if await request.is_disconnected():
                return
            head = await run_in_threadpool(store.latest_audit_seq)
            if head > seq:
                events = await run_in_threadpool(store.audit_events, seq, 500)
                changed = sorted({e.subject[len("alert:"):] for e in events if e.subject.startswith("alert:")
                                  and e.action.startswith("alert.")})
                seq = events[-1].seq if events else head
                if changed:
                    yield _event("alerts", {"ids": changed}, f"{seq}.{note_id}")
            for n in await run_in_threadpool(store.notifications_for, caller.username, note_id, 50):
                note_id = n["id"]
                yield _event("notification", n, f"{seq}.{note_id}")
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
