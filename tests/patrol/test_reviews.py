import itertools

import pytest

from patrol.alerts import STATUSES, evaluate_rules
from patrol.reviews import (
    ALLOWED_ROLES, CLAIM, CONFIRM, DISMISS, ESCALATE, RELEASE, TRANSITIONS, Decision, DecisionError,
    PermissionDenied, TransitionError, apply_claim, apply_decision, apply_release,
)
from patrol.users import User

OFFICER = User("li", "officer")
OTHER_OFFICER = User("wang", "officer")
SUPERVISOR = User("zhao", "supervisor")
AUDITOR = User("qian", "auditor")
ADMIN = User("sun", "admin")

DECISIONS = {
    CONFIRM: Decision(CONFIRM, disposition="reported"),
    DISMISS: Decision(DISMISS, reason="false_positive"),
    ESCALATE: Decision(ESCALATE, note="may involve a minor; please check"),
}

EXPECTED = {
    ("open", "claim"): "claimed",
    ("claimed", "claim"): "claimed",
    ("claimed", "release"): "open",
    ("claimed", "confirm"): "confirmed",
    ("claimed", "dismiss"): "dismissed",
    ("claimed", "escalate"): "escalated",
    ("escalated", "claim"): "escalated",
    ("escalated", "release"): "escalated",
    ("escalated", "confirm"): "confirmed",
    ("escalated", "dismiss"): "dismissed",
}
ACTIONS = (CLAIM, RELEASE, CONFIRM, DISMISS, ESCALATE)


@pytest.fixture
def open_alert(make, rules):
    return evaluate_rules(make.raw(), make.analysis("drugs"), rules, make.now)


def in_state(alert, state, holder):
    """The alert in `state`, held by `holder` where that state has a holder."""
    assignee = holder.name if state in ("claimed", "escalated") else None
    return alert.with_changes(status=state, assignee=assignee, escalated=state == "escalated")


def act(alert, action, user, now):
    if action == CLAIM:
        return apply_claim(alert, user, now)
    if action == RELEASE:
        return apply_release(alert, user, now)
    return apply_decision(alert, DECISIONS[action], user, now)


# --- the table ----------------------------------------------------------------------------

def test_transition_table_is_exactly_the_documented_workflow():
    assert TRANSITIONS == EXPECTED


def test_escalated_alerts_are_for_supervisors_only_and_no_step_is_for_auditors_or_admins():
    for (state, action), roles in ALLOWED_ROLES.items():
        assert roles == ({"supervisor"} if state == "escalated" else {"officer", "supervisor"}), (state, action)


@pytest.mark.parametrize("state, action", sorted(EXPECTED))
def test_every_allowed_transition_reaches_its_state(open_alert, make, state, action):
    holder = SUPERVISOR if state == "escalated" else OFFICER
    alert = in_state(open_alert, state, holder)
    assert act(alert, action, holder, make.now).status == EXPECTED[(state, action)]


@pytest.mark.parametrize("state, action", sorted(set(itertools.product(STATUSES, ACTIONS)) - set(EXPECTED)))
def test_every_transition_outside_the_table_is_refused(open_alert, make, state, action):
    alert = in_state(open_alert, state, SUPERVISOR)
    with pytest.raises(TransitionError) as err:
        act(alert, action, SUPERVISOR, make.now)
    assert err.value.state == state and err.value.action == action
    assert open_alert.id in str(err.value)


# --- claims -------------------------------------------------------------------------------

def test_claim_assigns_the_alert_and_records_when(open_alert, make):
    claimed = apply_claim(open_alert, OFFICER, make.now)
    assert (claimed.status, claimed.assignee, claimed.claimed_at) == ("claimed", "li", make.now)


def test_claiming_your_own_claim_again_changes_nothing(open_alert, make):
    claimed = apply_claim(open_alert, OFFICER, make.now)
    assert apply_claim(claimed, OFFICER, make.now) is claimed


def test_officer_cannot_claim_an_alert_claimed_by_someone_else(open_alert, make):
    claimed = apply_claim(open_alert, OFFICER, make.now)
    with pytest.raises(TransitionError, match="claimed by li"):
        apply_claim(claimed, OTHER_OFFICER, make.now)


def test_supervisor_can_take_over_a_claim(open_alert, make):
    claimed = apply_claim(open_alert, OFFICER, make.now)
    assert apply_claim(claimed, SUPERVISOR, make.now).assignee == "zhao"


def test_release_returns_a_claimed_alert_to_the_open_queue(open_alert, make):
    released = apply_release(apply_claim(open_alert, OFFICER, make.now), OFFICER, make.now)
    assert (released.status, released.assignee, released.claimed_at) == ("open", None, None)


def test_officer_cannot_release_someone_elses_claim_but_a_supervisor_can(open_alert, make):
    claimed = apply_claim(open_alert, OFFICER, make.now)
    with pytest.raises(TransitionError, match="claimed by li"):
        apply_release(claimed, OTHER_OFFICER, make.now)
    assert apply_release(claimed, SUPERVISOR, make.now).status == "open"


def test_open_alert_cannot_be_released(open_alert, make):
    with pytest.raises(TransitionError, match="not claimed"):
        apply_release(open_alert, OFFICER, make.now)


# --- decisions ----------------------------------------------------------------------------

def test_open_alert_cannot_be_decided_without_a_claim(open_alert, make):
    with pytest.raises(TransitionError, match="claim it first"):
        apply_decision(open_alert, DECISIONS[CONFIRM], OFFICER, make.now)


def test_only_the_holder_can_decide(open_alert, make):
    claimed = apply_claim(open_alert, OFFICER, make.now)
    with pytest.raises(TransitionError, match="claimed by li"):
        apply_decision(claimed, DECISIONS[DISMISS], OTHER_OFFICER, make.now)


def test_confirm_records_the_disposition_decider_and_time(open_alert, make):
    claimed = apply_claim(open_alert, OFFICER, make.now)
    done = apply_decision(claimed, Decision(CONFIRM, disposition="referred", note="sent to drugs unit"),
                          OFFICER, make.now)
    assert (done.status, done.decision, done.outcome, done.decided_by, done.decided_at, done.decision_note) == (
        "confirmed", "confirm", "referred", "li", make.now, "sent to drugs unit")


def test_dismissed_alert_cannot_be_confirmed(open_alert, make):
    dismissed = apply_decision(apply_claim(open_alert, OFFICER, make.now), DECISIONS[DISMISS], OFFICER, make.now)
    with pytest.raises(TransitionError, match="already decided"):
        apply_decision(dismissed, DECISIONS[CONFIRM], OFFICER, make.now)


def test_confirmed_alert_cannot_be_claimed_again(open_alert, make):
    confirmed = apply_decision(apply_claim(open_alert, OFFICER, make.now), DECISIONS[CONFIRM], OFFICER, make.now)
    with pytest.raises(TransitionError, match="already decided"):
        apply_claim(confirmed, SUPERVISOR, make.now)


def test_escalation_goes_back_unassigned_to_the_supervisors_with_the_same_deadline(open_alert, make):
    escalated = apply_decision(apply_claim(open_alert, OFFICER, make.now), DECISIONS[ESCALATE], OFFICER, make.now)
    assert (escalated.status, escalated.assignee, escalated.escalated) == ("escalated", None, True)
    assert escalated.due_at == open_alert.due_at
    assert escalated.decision_note == "may involve a minor; please check"


def test_officer_cannot_claim_an_escalated_alert(open_alert, make):
    escalated = apply_decision(apply_claim(open_alert, OFFICER, make.now), DECISIONS[ESCALATE], OFFICER, make.now)
    with pytest.raises(PermissionDenied, match="supervisor"):
        apply_claim(escalated, OFFICER, make.now)


def test_supervisor_claims_and_decides_an_escalated_alert(open_alert, make):
    escalated = apply_decision(apply_claim(open_alert, OFFICER, make.now), DECISIONS[ESCALATE], OFFICER, make.now)
    held = apply_claim(escalated, SUPERVISOR, make.now)
    assert (held.status, held.assignee) == ("escalated", "zhao")
    assert apply_release(held, SUPERVISOR, make.now).status == "escalated"
    done = apply_decision(held, DECISIONS[CONFIRM], SUPERVISOR, make.now)
    assert (done.status, done.decided_by) == ("confirmed", "zhao")


def test_escalated_alert_must_be_claimed_before_a_supervisor_decides(open_alert, make):
    escalated = apply_decision(apply_claim(open_alert, OFFICER, make.now), DECISIONS[ESCALATE], OFFICER, make.now)
    with pytest.raises(TransitionError, match="claim it first"):
        apply_decision(escalated, DECISIONS[DISMISS], SUPERVISOR, make.now)


@pytest.mark.parametrize("user", [AUDITOR, ADMIN])
def test_auditors_and_admins_cannot_touch_alerts(open_alert, make, user):
    with pytest.raises(PermissionDenied, match=user.role):
        apply_claim(open_alert, user, make.now)


def test_deactivated_officer_cannot_claim(open_alert, make):
    with pytest.raises(PermissionDenied, match="deactivated"):
        apply_claim(open_alert, User("li", "officer", active=False), make.now)


def test_review_functions_do_not_change_the_alert_they_are_given(open_alert, make):
    before = open_alert
    apply_claim(open_alert, OFFICER, make.now)
    assert open_alert == before and open_alert.status == "open"


# --- the decision value -------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"action": "confirm"}, "confirm needs a disposition"),
    ({"action": "confirm", "disposition": "deleted_it"}, "confirm needs a disposition"),
    ({"action": "confirm", "disposition": "reported", "reason": "duplicate"}, "not a reason"),
    ({"action": "dismiss"}, "dismiss needs a reason"),
    ({"action": "dismiss", "reason": "boring"}, "dismiss needs a reason"),
    ({"action": "dismiss", "reason": "other"}, "needs a note"),
    ({"action": "dismiss", "reason": "duplicate", "disposition": "reported"}, "not a disposition"),
    ({"action": "escalate"}, "escalate needs a note"),
    ({"action": "escalate", "note": "   "}, "escalate needs a note"),
    ({"action": "escalate", "note": "x", "reason": "other"}, "only a note"),
    ({"action": "delete"}, "action must be one of"),
    ({"action": "confirm", "disposition": "reported", "note": "x" * 5000}, "at most"),
])
def test_decisions_need_their_fields(kwargs, message):
    with pytest.raises(DecisionError, match=message):
        Decision(**kwargs)


@pytest.mark.parametrize("decision, outcome", [
    (Decision("confirm", disposition="watch"), "watch"),
    (Decision("dismiss", reason="counter_speech"), "counter_speech"),
    (Decision("dismiss", reason="other", note="test post by the forum admin"), "other"),
    (Decision("escalate", note="check"), None),
])
def test_valid_decisions_carry_their_outcome(decision, outcome):
    assert decision.outcome == outcome
