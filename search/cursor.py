"""Opaque pagination cursors shared by both indexes.

A cursor carries the sort key of the last hit of a page (keyset pagination, so a page never repeats
or skips hits because of its offset) and a fingerprint of the request it belongs to. A checksum
catches a cursor that was edited, truncated or pasted from another search, and says so, rather
than silently returning a wrong page. It is not a secret: the sort key reveals nothing.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime

from search.index import BadCursor, SearchQuery

_KEY = b"patrol.search.cursor.v1"


def fingerprint(query: SearchQuery) -> str:
    def when(d: datetime | None) -> str | None:
        return d.isoformat() if d else None

    request = [query.q, query.category, query.source, when(query.published_from), when(query.published_to)]
    return hashlib.sha256(json.dumps(request, ensure_ascii=False).encode()).hexdigest()[:16]


def encode(query: SearchQuery, sort_key: list) -> str:
    payload = json.dumps({"f": fingerprint(query), "k": sort_key}, separators=(",", ":")).encode()
    mac = hmac.new(_KEY, payload, hashlib.sha256).hexdigest()[:16]
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + mac


def decode(query: SearchQuery) -> list | None:
    """The sort key in `query.cursor`, or None on a first page. Raises BadCursor."""
    cursor = query.cursor
    if not cursor:
        return None
    try:
        body, mac = cursor.rsplit(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, binascii.Error):
        raise BadCursor("the cursor is malformed; start again from the first page") from None
    expected = hmac.new(_KEY, payload, hashlib.sha256).hexdigest()[:16]
    if not hmac.compare_digest(mac, expected):
        raise BadCursor("the cursor was altered or truncated; start again from the first page")
    data = json.loads(payload)
    if data.get("f") != fingerprint(query):
        raise BadCursor("the cursor belongs to a different search; start again from the first page")
    return data["k"]
