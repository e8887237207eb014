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

from patrol import dispositions
from patrol.alerts import CLAIMED, CONFIRMED, DISMISSED, ESCALATED, OPEN, Alert
from patrol.posts import text_problem
from patrol.taxonomy import HARM_CATEGORIES
from patrol.users import OFFICER, SUPERVISOR, User

CLAIM, RELEASE, CONFIRM, DISMISS, ESCALATE = "claim", "release", "confirm", "dismiss", "escalate"
ASSIGN = "assign"  # a supervisor hands an alert to a reviewer (officer, or supervisor for escalated ones)
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

# What a confirmed alert led to: every code of the rules file's `dispositions:` section; which of
# them an alert may take depends on its category (patrol.dispositions.for_category).
DISPOSITIONS = dispositions.ALL
# Why an alert was dismissed. Dismissals are training labels, so the reason matters.
DISMISS_REASONS = ("false_positive", "counter_speech", "out_of_scope", "duplicate", "news_or_fiction", "other")

MAX_NOTE_CHARS = 4000


class ReviewError(Exception):
    """Base of the errors a review step raises on purpose."""


class TransitionError(ReviewError):
    """The action is not possible on this alert now (wrong state, held by someone else, ...).

    `reason` says which, for adapters that word it themselves (the console, in Chinese):
    already_decided, not_claimed, claimed_by (`holder` set), not_allowed."""

    def __init__(self, alert_id: str, state: str, action: str, message: str, reason: str = "not_allowed",
                 holder: str | None = None):
        super().__init__(f"cannot {action} alert {alert_id} ({state}): {message}")
        self.alert_id = alert_id
        self.state = state
        self.action = action
        self.message = message
        self.reason = reason
        self.holder = holder


class PermissionDenied(ReviewError):
    """The user's role does not allow the action. `action`, `state`, `role` and `needed` (roles)
    are set when the refusal is about an alert's review."""

    def __init__(self, message: str, *, action: str | None = None, state: str | None = None,
                 role: str | None = None, needed: tuple[str, ...] = ()):
        super().__init__(message)
        self.action, self.state, self.role, self.needed = action, state, role, needed


class DecisionError(ValueError):
    """A decision missing what it needs (a disposition, a reason or a note).

    `code` names the problem for adapters that word it themselves: note_too_long, note_bad_text,
    disposition_missing, disposition_not_for_category, reason_missing, note_missing (dismiss
    `other`), escalate_note_missing, wrong_field, action_unknown, note_empty."""

    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.code = code


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
            raise DecisionError(f"note must be at most {MAX_NOTE_CHARS} characters, got {len(note)}", "note_too_long")
        if text_problem(note):
            raise DecisionError(f"note {text_problem(note)}", "note_bad_text")
        if self.action == CONFIRM:
            if self.disposition not in DISPOSITIONS:
                raise DecisionError(f"confirm needs a disposition, one of {', '.join(DISPOSITIONS)}; "
                                    f"got {self.disposition!r}", "disposition_missing")
            if self.reason is not None:
                raise DecisionError("confirm takes a disposition, not a reason", "wrong_field")
        elif self.action == DISMISS:
            if self.reason not in DISMISS_REASONS:
                raise DecisionError(f"dismiss needs a reason, one of {', '.join(DISMISS_REASONS)}; "
                                    f"got {self.reason!r}", "reason_missing")
            if self.disposition is not None:
                raise DecisionError("dismiss takes a reason, not a disposition", "wrong_field")
            if self.reason == "other" and not note:
                raise DecisionError("dismiss with reason 'other' needs a note saying why", "note_missing")
        elif self.action == ESCALATE:
            if not note:
                raise DecisionError("escalate needs a note for the supervisor", "escalate_note_missing")
            if self.disposition is not None or self.reason is not None:
                raise DecisionError("escalate takes only a note", "wrong_field")
        else:
            raise DecisionError(f"action must be one of {', '.join(DECISION_ACTIONS)}, got {self.action!r}", "action_unknown")
        if self.category is not None and self.action != CONFIRM:
            raise DecisionError(f"only confirm takes a corrected category, not {self.action}", "category_not_confirm")
        if self.category is not None and self.category not in HARM_CATEGORIES:
            raise DecisionError(f"the confirmed category must be one of {', '.join(HARM_CATEGORIES)}; "
                                f"got {self.category!r}", "category_unknown")

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
            raise TransitionError(alert.id, alert.status, action, f"already decided ({alert.status})", "already_decided")
        if action in (RELEASE, CONFIRM, DISMISS, ESCALATE) and alert.status == OPEN:
            raise TransitionError(alert.id, alert.status, action, "not claimed; claim it first", "not_claimed")
        raise TransitionError(alert.id, alert.status, action, "not allowed in this state")
    if not user.active:
        raise PermissionDenied(f"user {user.name} is deactivated", action=action, state=alert.status, role=user.role)
    if user.role not in ALLOWED_ROLES[(alert.status, action)]:
        who = " or ".join(sorted(ALLOWED_ROLES[(alert.status, action)]))
        raise PermissionDenied(f"{action} on a {alert.status} alert needs the role {who}; "
                               f"{user.name} is {user.role}", action=action, state=alert.status, role=user.role,
                               needed=tuple(sorted(ALLOWED_ROLES[(alert.status, action)])))
    return target


def apply_claim(alert: Alert, user: User, now: datetime) -> Alert:
    """Claim the alert for `user`. Claiming one's own claim again changes nothing; a supervisor may
    take over someone else's claim; an officer may not."""
    target = next_state(alert, CLAIM, user)
    if alert.assignee == user.name:
        return alert
    if alert.assignee is not None and user.role != SUPERVISOR:
        raise TransitionError(alert.id, alert.status, CLAIM, f"claimed by {alert.assignee}", "claimed_by",
                              alert.assignee)
    return alert.with_changes(status=target, assignee=user.name, claimed_at=now)


def apply_release(alert: Alert, user: User, now: datetime) -> Alert:
    """Give the alert back to the queue it came from. Only the holder, or a supervisor, may."""
    target = next_state(alert, RELEASE, user)
    if alert.assignee is None:
        raise TransitionError(alert.id, alert.status, RELEASE, "not claimed", "not_claimed")
    if alert.assignee != user.name and user.role != SUPERVISOR:
        raise TransitionError(alert.id, alert.status, RELEASE, f"claimed by {alert.assignee}", "claimed_by",
                              alert.assignee)
    return alert.with_changes(status=target, assignee=None, claimed_at=None)


def apply_decision(alert: Alert, decision: Decision, officer: User, now: datetime) -> Alert:
    """Decide the alert. The decider must hold the claim: a decision is one person's, on the record."""
    target = next_state(alert, decision.action, officer)
    if alert.assignee is None:
        raise TransitionError(alert.id, alert.status, decision.action, "not claimed; claim it first", "not_claimed")
    if alert.assignee != officer.name:
        raise TransitionError(alert.id, alert.status, decision.action, f"claimed by {alert.assignee}", "claimed_by",
                              alert.assignee)
    if decision.action == CONFIRM and decision.disposition not in dispositions.for_category(alert.category):
        raise DecisionError(f"disposition {decision.disposition!r} is not one for {alert.category}; one of "
                            f"{', '.join(dispositions.for_category(alert.category))}", "disposition_not_for_category")
    if decision.action == ESCALATE:
        # Back to the supervisors' queue, unassigned, due as before: escalating must not buy time.
        return alert.with_changes(status=target, assignee=None, claimed_at=None, escalated=True,
                                  decision=ESCALATE, outcome=None, decision_note=decision.note,
                                  decided_by=officer.name, decided_at=now)
    return alert.with_changes(status=target, decision=decision.action, outcome=decision.outcome,
                              decision_note=decision.note, decided_by=officer.name, decided_at=now)


def apply_assign(alert: Alert, assignee: User, supervisor: User, now: datetime) -> Alert:
    """A supervisor hands the alert to `assignee`: an open or claimed alert to any active reviewer
    (it becomes claimed by them), an escalated one only to a supervisor (it stays escalated)."""
    if not supervisor.active or supervisor.role != SUPERVISOR:
        raise PermissionDenied(f"assigning needs the role supervisor; {supervisor.name} is {supervisor.role}",
                               action=ASSIGN, state=alert.status, role=supervisor.role, needed=(SUPERVISOR,))
    if alert.status in FINAL_STATES:
        raise TransitionError(alert.id, alert.status, ASSIGN, f"already decided ({alert.status})", "already_decided")
    if not assignee.can_review:
        raise PermissionDenied(f"{assignee.name} ({assignee.role}) cannot review alerts",
                               action=ASSIGN, state=alert.status, role=assignee.role, needed=(OFFICER, SUPERVISOR))
    if alert.status == ESCALATED and assignee.role != SUPERVISOR:
        raise PermissionDenied(f"an escalated alert goes only to a supervisor; {assignee.name} is {assignee.role}",
                               action=ASSIGN, state=alert.status, role=assignee.role, needed=(SUPERVISOR,))
    if alert.assignee == assignee.name:
        return alert
    status = ESCALATED if alert.status == ESCALATED else CLAIMED
    return alert.with_changes(status=status, assignee=assignee.name, claimed_at=now)
