"""The alert queue and the review workflow: list, read, claim, release, decide, note, bulk."""
from __future__ import annotations

import logging
from datetime import datetime

from api import alert_views
from api.deps import as_utc, now
from api.schemas import AlertDetailOut, AlertPageOut, BulkIn, BulkItemOut, BulkOut, DecisionIn
from patrol.alerts import Alert
from patrol.identifiers import Identifier, find_identifiers
from patrol.posts import analysed_text
from patrol.reviews import Decision, DecisionError, PermissionDenied, ReviewError
from patrol.users import OFFICER, SUPERVISOR
from patrol.store import AlertDetail, AlertFilter, BulkOutcome, NotFound, StoreError
from search.index import IndexUnavailable

log = logging.getLogger(__name__)


def alert_filter(*, status, category, severity, source, assignee, q, opened_from, opened_to, sort, limit, cursor):
    """The store's filter from query values: "" means not given, `status` may be comma-separated."""
    statuses = tuple(s.strip() for s in status.split(",") if s.strip()) if status else None
    return AlertFilter(
        status=statuses or None, category=category or None, severity=severity or None,
        source=source or None, assignee=assignee or None, q=q or None,
        opened_from=as_utc(opened_from), opened_to=as_utc(opened_to),
        sort=sort, limit=limit, cursor=cursor or None,
    )


def list_page(svc, flt: AlertFilter, at: datetime) -> AlertPageOut:
    page = svc.store.list_alerts(flt)
    return AlertPageOut(items=[alert_views.summary(a, at) for a in page.items], next_cursor=page.next_cursor)


def masked_page(page: AlertPageOut) -> AlertPageOut:
    """The JSON API's queue: identifiers masked, as in the console's queue (no reveal there)."""
    return AlertPageOut(items=[alert_views.masked_summary(a) for a in page.items], next_cursor=page.next_cursor)


def get_detail(svc, alert_id: str) -> AlertDetailOut:
    return alert_views.detail(read_detail(svc, alert_id), now())


def read_detail(svc, alert_id: str) -> AlertDetail:
    """The store's AlertDetail (for a page that shows more than the API's shape), or NotFound."""
    d = svc.store.get_alert(alert_id)
    if d is None:
        raise NotFound(f"no alert with id {alert_id!r}")
    return d


# The store re-reads the user inside its transaction, so passing the name is enough and a role
# change between authentication and the write cannot slip through.

def claim(svc, actor: str, alert_id: str) -> None:
    index_status(svc, svc.store.claim(alert_id, actor, now()))


def release(svc, actor: str, alert_id: str) -> None:
    index_status(svc, svc.store.release(alert_id, actor, now()))


def decide(svc, actor: str, alert_id: str, body: DecisionIn) -> None:
    decided = svc.store.decide(alert_id, to_decision(body), actor, now())
    index_status(svc, decided)
    if decided.group_size > 1:  # the decision went to the group's members too (patrol/store/groups.py)
        for member in svc.store.group_members(alert_id):
            index_status(svc, member)


def assign(svc, actor: str, alert_id: str, assignee: str) -> None:
    index_status(svc, svc.store.assign(alert_id, assignee, actor, now()))


def decide_claiming(svc, actor: str, alert_id: str, body: DecisionIn) -> None:
    """Claim (when open) and decide in one transaction: the keyboard's x and e on the queue.
    Refusals are raised as the core's errors, as decide() raises them."""
    outcome = svc.store.bulk([alert_id], to_decision(body), actor, now())[0]
    if not outcome.ok:
        raise outcome.problem
    index_status(svc, svc.store.get_alert(alert_id).alert)


def _may_reveal(svc, actor: str) -> None:
    user = svc.store.get_user(actor)
    if user is None or not user.can_review:
        raise PermissionDenied(f"{actor} may not reveal identifiers", action="reveal", role=user.role if user else None,
                               needed=(OFFICER, SUPERVISOR))


def shown_detail(svc, actor: str, alert_id: str, reveal: bool = False) -> AlertDetailOut:
    """The JSON API's alert: identifiers masked, as the console shows it, unless a reviewer asks to
    `reveal`; then in full, with one `identifier.revealed` audit event per identifier (the console's
    event, `via` api), before anything is answered."""
    if not reveal:
        return alert_views.masked_detail(get_detail(svc, alert_id))
    _may_reveal(svc, actor)
    out = get_detail(svc, alert_id)
    for ident in find_identifiers(out.post.analysed_text):
        svc.store.record_event(actor, "identifier.revealed", f"alert:{alert_id}",
                               {"index": ident.index, "kind": ident.kind, "via": "api"}, now())
    return out


def reveal_identifier(svc, actor: str, alert_id: str, index: int) -> Identifier:
    """The index-th personal identifier of the alert's frozen post, in full, for a reviewer; the
    reveal is an audit event (which identifier and its kind, never the value)."""
    _may_reveal(svc, actor)
    d = svc.store.get_alert(alert_id)
    if d is None:
        raise NotFound(f"no alert with id {alert_id!r}")
    found = find_identifiers(analysed_text(d.alert.title, d.alert.text))
    if not 0 <= index < len(found):
        raise NotFound(f"alert {alert_id} has no identifier #{index}")
    ident = found[index]
    svc.store.record_event(actor, "identifier.revealed", f"alert:{alert_id}", {"index": index, "kind": ident.kind}, now())
    return ident


def add_note(svc, actor: str, alert_id: str, text: str) -> None:
    svc.store.add_note(alert_id, actor, text, now())


def bulk(svc, actor: str, body: BulkIn) -> BulkOut:
    """Each alert succeeds or fails on its own; the answer says which and why, in request order.
    A decision on an open alert claims it for the actor first."""
    action = body.action if body.action in ("claim", "release") else to_decision(body)
    outcomes = bulk_outcomes(svc, actor, body.ids, action)
    return BulkOut(results=[BulkItemOut(id=o.alert_id, ok=o.ok, alert_status=o.status, detail=o.error)
                            for o in outcomes])


def bulk_outcomes(svc, actor: str, ids: list[str], action: str | Decision) -> list[BulkOutcome]:
    """One action ("claim", "release" or a Decision) on each alert, each on its own (the store's
    bulk), and the index told of every alert that changed: the JSON API's and the console's bulk."""
    return _indexed(svc, svc.store.bulk(ids, action, actor, now()))


def assign_each(svc, actor: str, ids: list[str], assignee: str) -> list[BulkOutcome]:
    """A supervisor's bulk 指派: each alert assigned on its own, a refusal kept as its outcome."""
    if not assignee:
        raise DecisionError("no assignee", "assignee_missing")
    outcomes = []
    for alert_id in dict.fromkeys(ids):
        try:
            outcomes.append(BulkOutcome(alert_id, True, svc.store.assign(alert_id, assignee, actor, now()).status))
        except (StoreError, ReviewError) as exc:
            outcomes.append(BulkOutcome(alert_id, False, None, str(exc), exc))
    return _indexed(svc, outcomes)


def _indexed(svc, outcomes: list[BulkOutcome]) -> list[BulkOutcome]:
    for o in outcomes:
        if o.ok:
            index_status(svc, svc.store.get_alert(o.alert_id).alert)
    return outcomes


def to_decision(body: DecisionIn | BulkIn) -> Decision:
    return Decision(action=body.action, disposition=body.disposition, reason=body.reason, note=body.note,
                    category=getattr(body, "category", None))


def index_status(svc, alert: Alert) -> None:
    """Search filters on the alert's status (`status:open`), so the index follows each review
    step. The store is the record: an index that is down leaves the filter stale, not the step undone."""
    if alert.post_id is None:
        return
    try:
        svc.index.set_status(alert.post_id, alert.status)
    except IndexUnavailable as exc:
        log.warning("alert %s is %s, but the index still has its old status: %s", alert.id, alert.status, exc)
