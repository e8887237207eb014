"""Audit events the API adds itself (the store audits every change it makes on its own)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def record(svc, action: str, actor: str, subject: str | None, data: dict[str, Any]) -> None:
    svc.store.record_event(actor, action, subject or "", data, datetime.now(timezone.utc))
