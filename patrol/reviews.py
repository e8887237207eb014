"""The review of an alert: a state machine written as a table, and pure functions that apply it.

    open --claim--> claimed --confirm--> confirmed   (final)
      ^               |  \\--dismiss--> dismissed   (final)
      +---release-----+   \\-escalate-> escalated --claim/release (supervisor)--> escalated
                                           \\--confirm / dismiss (supervisor)--> confirmed / dismissed

An escalated alert stays `escalated` while a supervisor holds it, so releasing it hands it back to
the supervisors' queue and never to the officers' one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from patrol.alerts import CLAIMED, CONFIRMED, DISMISSED, ESCALATED, OPEN, Alert
from patrol.posts import text_problem
from patrol.taxonomy import HARM_CATEGORIES
from patrol.users import OFFICER, SUPERVISOR, User

CLAIM, RELEASE, CONFIRM, DISMISS, ESCALATE = "claim", "release", "confirm", "dismiss", "escalate"
DECISION_ACTIONS = (CONFIRM, DISMISS, ESCALATE)
FINAL_STATES = (CONFIRMED, DISMISSED)

# (state, action) -> the state after it. Anything not in the table is forbidden.
TRANSITIONS: dict[tuple[str, str], str] = {
    (OPEN, CLAIM): CLAIMED,
    (CLAIMED, CLAIM): CLAIMED,  # the holder again (no-op) or a supervisor taking over
    (CLAIMED, RELEASE): OPEN,
    (CLAIMED, CONFIRM): CONFIRMED,
    (CLAIMED, DISMISS): DISMISSED,
    (CLAIMED, ESCALATE): ESCALATED,
    (ESCALATED, CLAIM): ESCALATED,
    (ESCALATED, RELEASE): ESCALATED,
    (ESCALATED, CONFIRM): CONFIRMED,
    (ESCALATED, DISMISS): DISMISSED,
}

# (state, action) -> the roles that may take it. Auditors read; admins manage users, not alerts.
ALLOWED_ROLES: dict[tuple[str, str], frozenset[str]] = {
    key: frozenset({SUPERVISOR} if key[0] == ESCALATED else {OFFICER, SUPERVISOR}) for key in TRANSITIONS
}

# What a confirmed alert led to.
DISPOSITIONS = ("reported", "removed_upstream", "referred", "watch")
# Why an alert was dismissed. Dismissals are training labels, so the reason matters.
DISMISS_REASONS = ("false_positive", "counter_speech", "out_of_scope", "duplicate", "news_or_fiction", "other")

MAX_NOTE_CHARS = 4000


class ReviewError(Exception):
    """Base of the errors a review step raises on purpose."""


class TransitionError(ReviewError):
    """The action is not possible on this alert now (wrong state, held by someone else, ...)."""

    def __init__(self, alert_id: str, state: str, action: str, message: str):
        super().__init__(f"cannot {action} alert {alert_id} ({state}): {message}")
        self.alert_id = alert_id
        self.state = state
        self.action = action
        self.message = message


class PermissionDenied(ReviewError):
    """The user's role does not allow the action."""


class DecisionError(ValueError):
    """A decision missing what it needs (a disposition, a reason or a note)."""


@dataclass(frozen=True)
class Decision:
    """confirm needs a disposition, dismiss needs a reason (and a note when the reason is `other`),
    escalate needs a note saying what the supervisor should look at."""

    action: str
    disposition: str | None = None
    reason: str | None = None
    note: str = ""
    # confirm only: the category the officer confirms when it is not the alert's ("this is
    # gambling, not fraud"). It becomes the post's training label (patrol.labels).
    category: str | None = None

    def __post_init__(self) -> None:
        note = (self.note or "").strip()
        object.__setattr__(self, "note", note)
        if len(note) > MAX_NOTE_CHARS:
            raise DecisionError(f"note must be at most {MAX_NOTE_CHARS} characters, got {len(note)}")
        if text_problem(note):
            raise DecisionError(f"note {text_problem(note)}")
        if self.action == CONFIRM:
            if self.disposition not in DISPOSITIONS:
                raise DecisionError(f"confirm needs a disposition, one of {', '.join(DISPOSITIONS)}; "
                                    f"got {self.disposition!r}")
            if self.reason is not None:
                raise DecisionError("confirm takes a disposition, not a reason")
        elif self.action == DISMISS:
            if self.reason not in DISMISS_REASONS:
                raise DecisionError(f"dismiss needs a reason, one of {', '.join(DISMISS_REASONS)}; "
                                    f"got {self.reason!r}")
            if self.disposition is not None:
                raise DecisionError("dismiss takes a reason, not a disposition")
            if self.reason == "other" and not note:
                raise DecisionError("dismiss with reason 'other' needs a note saying why")
        elif self.action == ESCALATE:
            if not note:
                raise DecisionError("escalate needs a note for the supervisor")
            if self.disposition is not None or self.reason is not None:
                raise DecisionError("escalate takes only a note")
        else:
            raise DecisionError(f"action must be one of {', '.join(DECISION_ACTIONS)}, got {self.action!r}")
        if self.category is not None and self.action != CONFIRM:
            raise DecisionError(f"only confirm takes a corrected category, not {self.action}")
        if self.category is not None and self.category not in HARM_CATEGORIES:
            raise DecisionError(f"the confirmed category must be one of {', '.join(HARM_CATEGORIES)}; "
                                f"got {self.category!r}")

    @property
    def outcome(self) -> str | None:
        return self.disposition if self.action == CONFIRM else self.reason if self.action == DISMISS else None

    def to_dict(self) -> dict:
        out = {"action": self.action, "disposition": self.disposition, "reason": self.reason, "note": self.note}
        if self.category is not None:
            out["category"] = self.category
        return out


def next_state(alert: Alert, action: str, user: User) -> str:
    """The state after `action`, or a TransitionError / PermissionDenied saying why not."""
    target = TRANSITIONS.get((alert.status, action))
    if target is None:
        if alert.status in FINAL_STATES:
            raise TransitionError(alert.id, alert.status, action, f"already decided ({alert.status})")
        if action in (RELEASE, CONFIRM, DISMISS, ESCALATE) and alert.status == OPEN:
            raise TransitionError(alert.id, alert.status, action, "not claimed; claim it first")
        raise TransitionError(alert.id, alert.status, action, "not allowed in this state")
    if not user.active:
        raise PermissionDenied(f"user {user.name} is deactivated")
    if user.role not in ALLOWED_ROLES[(alert.status, action)]:
        who = " or ".join(sorted(ALLOWED_ROLES[(alert.status, action)]))
        raise PermissionDenied(f"{action} on a {alert.status} alert needs the role {who}; "
                               f"{user.name} is {user.role}")
    return target


def apply_claim(alert: Alert, user: User, now: datetime) -> Alert:
    """Claim the alert for `user`. Claiming one's own claim again changes nothing; a supervisor may
    take over someone else's claim; an officer may not."""
    target = next_state(alert, CLAIM, user)
    if alert.assignee == user.name:
        return alert
    if alert.assignee is not None and user.role != SUPERVISOR:
        raise TransitionError(alert.id, alert.status, CLAIM, f"claimed by {alert.assignee}")
    return alert.with_changes(status=target, assignee=user.name, claimed_at=now)


def apply_release(alert: Alert, user: User, now: datetime) -> Alert:
    """Give the alert back to the queue it came from. Only the holder, or a supervisor, may."""
    target = next_state(alert, RELEASE, user)
    if alert.assignee is None:
        raise TransitionError(alert.id, alert.status, RELEASE, "not claimed")
    if alert.assignee != user.name and user.role != SUPERVISOR:
        raise TransitionError(alert.id, alert.status, RELEASE, f"claimed by {alert.assignee}")
    return alert.with_changes(status=target, assignee=None, claimed_at=None)


def apply_decision(alert: Alert, decision: Decision, officer: User, now: datetime) -> Alert:
    """Decide the alert. The decider must hold the claim: a decision is one person's, on the record."""
    target = next_state(alert, decision.action, officer)
    if alert.assignee is None:
        raise TransitionError(alert.id, alert.status, decision.action, "not claimed; claim it first")
    if alert.assignee != officer.name:
        raise TransitionError(alert.id, alert.status, decision.action, f"claimed by {alert.assignee}")
    if decision.action == ESCALATE:
        # Back to the supervisors' queue, unassigned, due as before: escalating must not buy time.
        return alert.with_changes(status=target, assignee=None, claimed_at=None, escalated=True,
                                  decision=ESCALATE, outcome=None, decision_note=decision.note,
                                  decided_by=officer.name, decided_at=now)
    return alert.with_changes(status=target, decision=decision.action, outcome=decision.outcome,
                              decision_note=decision.note, decided_by=officer.name, decided_at=now)
