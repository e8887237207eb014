"""The cap on request bodies: nothing reads more than `max_bytes` of a request.

A declared Content-Length over the cap is answered 413 before the app runs; a body sent without
one (chunked) is counted as it arrives and refused with the same 413 the moment it passes the cap,
so a 100 MB body is never read whole. Field caps are on the shapes themselves (api/schemas.py,
the routes' Query/Form limits)."""
from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large_detail(max_bytes: int) -> str:
    return f"request body too large: at most {max_bytes} bytes are accepted"


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = False  # the server itself refuses a malformed Content-Length
            if too_big:
                await self._refuse(send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # An HTTPException: FastAPI's body reading lets it through to its handler (413).
                    raise HTTPException(status_code=413, detail=too_large_detail(self.max_bytes))
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": too_large_detail(self.max_bytes)}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
