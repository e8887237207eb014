"""When a deadline passes on an alert about a life at risk, the supervisors on shift are told.

The check runs on the server (the API process runs it every few seconds, `patrol deadlines
check` runs it once), not in a browser: an alert nobody has open must still reach a supervisor.
Each breach is noticed once, by whichever process sees it first (the store's unique row), and is
an audit event (`alert.deadline_passed`) naming who was told.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from patrol import taxonomy

# Self-harm and threats of violence: a passed deadline there is a life at risk, not a backlog.
ESCALATE_WHEN_OVERDUE: tuple[str, ...] = ("self_harm", "violence_terror")

# A supervisor is "on shift" when the console saw them (a page or the live stream) this lately.
ON_SHIFT_WINDOW = timedelta(hours=12)

DEADLINE_PASSED = "deadline_passed"  # the notification kind


@dataclass(frozen=True)
class Breach:
    """One alert whose deadline passed, and the supervisors told about it."""

    alert_id: str
    category: str
    due_at: datetime
    noticed_at: datetime
    notified: tuple[str, ...]
    # False when no supervisor was on shift, so every active supervisor was told instead.
    on_shift: bool

    @property
    def overdue_by(self) -> timedelta:
        return self.noticed_at - self.due_at


def notification_text(category: str, due_at: datetime, now: datetime, title: str) -> str:
    minutes = max(1, int((now - due_at).total_seconds() // 60))
    label = taxonomy.LABEL_ZH.get(category, category)
    return f"{label}告警已超时 {minutes} 分钟仍未处置：{title[:40]}"


def check(store, now: datetime) -> list[Breach]:
    """One pass of the check: the store notices new breaches, tells the supervisors on shift and
    audits each one (api/deadline_watch.py runs this every few seconds; `patrol deadlines check` once)."""
    return store.notify_passed_deadlines(now, ESCALATE_WHEN_OVERDUE, now - ON_SHIFT_WINDOW)
