"""The JSON shapes of the API: what it accepts and what it returns. OpenAPI at /docs is built
from these."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from patrol.reviews import DISMISS_REASONS, DISPOSITIONS, MAX_NOTE_CHARS
from patrol.taxonomy import HARM_CATEGORIES
from patrol.users import MAX_PASSWORD_BYTES, ROLES
from search.index import Hit


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the token expires")
    role: str


class MeOut(BaseModel):
    name: str
    role: str


class SearchHitOut(BaseModel):
    id: str
    score: float
    source: str
    url: str
    title: str
    published_at: datetime
    primary: str
    categories: list[str]
    highlights: list[str] = Field(
        description="fragments, HTML-escaped, with matched words wrapped in <mark>…</mark>"
    )
    matched_normalised: bool = Field(
        False, description="some match is only in the normalised text (an evasive spelling such as 菠菜 for 博彩)")

    @classmethod
    def from_hit(cls, h: Hit) -> "SearchHitOut":
        return cls(id=h.id, score=h.score, source=h.source, url=h.url, title=h.title,
                   published_at=h.published_at, primary=h.primary, categories=list(h.categories),
                   highlights=list(h.highlights), matched_normalised=h.matched_normalised)


class SearchOut(BaseModel):
    total: int
    # "eq": total is exact; "gte": at least total match (exact up to 10,000, as Elasticsearch's
    # hits.total.relation); the console shows "10,000+".
    total_relation: Literal["eq", "gte"] = "eq"
    # True when the facet counts are estimated from a sample of the matches (the console shows ≈).
    facets_estimated: bool = False
    hits: list[SearchHitOut]
    facets: dict[str, dict[str, int]]
    next_cursor: str | None


# --- alerts -----------------------------------------------------------------------------------

class EvidenceOut(BaseModel):
    category: str
    source: str
    term: str
    start: int
    end: int
    text: str
    weight: float = 1.0


class TrailStepOut(BaseModel):
    kind: str
    start: int
    end: int
    original: str
    replacement: str


class AlertSummary(BaseModel):
    id: str
    post_id: str | None
    source: str
    category: str
    labels: list[str]
    severity: str
    score: float
    status: str
    opened_at: datetime
    due_at: datetime
    overdue: bool
    assignee: str | None
    title: str
    excerpt: str
    url: str
    # A group's lead counts itself and its members (patrol/grouping.py); a member names its lead.
    group_id: str | None = None
    group_size: int = 1


class FrozenPost(BaseModel):
    """The post as it was when the alert was raised; upstream it may be gone or edited."""

    post_id: str | None
    version: int
    source: str
    url: str
    title: str
    text: str
    author: str
    published_at: datetime | None
    fetched_at: datetime | None
    content_sha256: str
    analysed_text: str = Field(description="the string the analyzer saw (title, newline, text): "
                                           "evidence and trail offsets point into it")


class HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="allow")
    at: datetime
    actor: str | None
    type: str
    data: dict[str, Any] = {}


class NoteOut(BaseModel):
    author: str
    text: str
    at: datetime


class AlertDetailOut(AlertSummary):
    rule: str
    post: FrozenPost
    scores: dict[str, float]
    evidence: list[EvidenceOut]
    trail: list[TrailStepOut]
    model_version: str
    features: dict[str, list[tuple[str, float]]]
    claimed_at: datetime | None
    escalated: bool
    decision: str | None
    outcome: str | None
    decision_note: str
    decided_by: str | None
    decided_at: datetime | None
    history: list[HistoryEntry]
    notes: list[NoteOut]
    masked: bool = Field(False, description="personal identifiers in the texts are masked "
                                            "(ask with reveal=true, as a reviewer; audited)")


class AlertPageOut(BaseModel):
    items: list[AlertSummary]
    next_cursor: str | None


class DecisionIn(BaseModel):
    """confirm needs a disposition, dismiss a reason (and a note when the reason is `other`),
    escalate a note for the supervisor. patrol.reviews.Decision checks these and its refusal
    is a 422 with the reason."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["confirm", "dismiss", "escalate"]
    disposition: Literal[DISPOSITIONS] | None = None  # type: ignore[valid-type]
    reason: Literal[DISMISS_REASONS] | None = None  # type: ignore[valid-type]
    note: str = Field("", max_length=MAX_NOTE_CHARS)
    category: Literal[HARM_CATEGORIES] | None = Field(  # type: ignore[valid-type]
        None, description="confirm only: the category the officer confirms, when not the alert's; "
                          "it becomes the post's training label")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[str] = Field(min_length=1, max_length=200)
    action: Literal["claim", "release", "confirm", "dismiss", "escalate"]
    disposition: Literal[DISPOSITIONS] | None = None  # type: ignore[valid-type]
    reason: Literal[DISMISS_REASONS] | None = None  # type: ignore[valid-type]
    note: str = Field("", max_length=MAX_NOTE_CHARS)


class BulkItemOut(BaseModel):
    id: str
    ok: bool
    alert_status: str | None = Field(None, description="the alert's status after the action, when it succeeded")
    detail: str | None = Field(None, description="why the action was refused, when it was")


class BulkOut(BaseModel):
    results: list[BulkItemOut]


# --- posts, sources, audit, trends ------------------------------------------------------------

class PostVersionOut(BaseModel):
    version: int
    title: str
    text: str
    content_sha256: str
    fetched_at: datetime


class PostOut(BaseModel):
    id: str
    source: str
    external_id: str
    url: str
    title: str
    text: str
    author: str
    published_at: datetime | None
    fetched_at: datetime
    first_seen: datetime | None
    content_sha256: str
    deleted_upstream: bool
    primary: str
    labels: list[str]
    analysis: dict[str, Any] | None
    version: int
    versions: list[PostVersionOut]
    alert_id: str | None = Field(None, description="the alert raised for this post, if any")


class SourceHealthOut(BaseModel):
    source: str
    last_pass_at: datetime | None
    last_success_at: datetime | None
    items_last_pass: int
    errors_last_pass: dict[str, int]
    consecutive_empty: int
    passes: int


class AuditEventOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPageOut(BaseModel):
    events: list[AuditEventOut]
    next_after_seq: int | None = Field(description="pass as after_seq for the next page; null at the end")


class AuditVerificationOut(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str
    problem: str = Field("", description="rewritten | truncated | emptied | wrong_key | no_key; empty when ok")
    keyed: bool = Field(False, description="the chain is HMAC-keyed with a key kept outside the database")
    checkpoint_seq: int | None = Field(None, description="the signed checkpoint it was checked against")
    checkpoint_at: str | None = None


# The public-opinion views (events, trends, watch-lists) have their shapes in api/opinion_schemas.py.


# --- users and sessions (/api/users, /api/auth/logout) -----------------------------------------

Role = Literal[ROLES]  # type: ignore[valid-type]


class AccountOut(BaseModel):
    name: str
    role: str
    active: bool
    locked: bool = Field(description="locked after too many failed logins, until an admin unlocks it")
    default_password: bool = Field(description="the password is a well-known default (e.g. the demo user's)")
    live_sessions: int
    created_at: datetime


class SessionOut(BaseModel):
    id: str = Field(description="the session's id (a hash; it is not a credential)")
    user: str
    kind: Literal["token", "console"]
    created_at: datetime
    expires_at: datetime
    address: str = Field(description="the client address at login")


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64, description="ASCII letters, digits, '.', '_', '-'")
    role: Role
    password: str = Field(min_length=8, max_length=MAX_PASSWORD_BYTES)


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=8, max_length=MAX_PASSWORD_BYTES)


class SessionsEndedOut(BaseModel):
    ended: int


class UnlockOut(BaseModel):
    lifted: bool = Field(description="whether a lockout or back-off was in force")


# --- error answers, as documented on every route (api/openapi.py) ------------------------------

class FieldProblem(BaseModel):
    """One thing wrong with a request: where (`loc`: body/query/path/header and the field path),
    what (`msg`, in words) and its kind (`type`). The offending input is never repeated."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    detail: list[FieldProblem] | str = Field(
        description="the problems with the request's fields, or one sentence when the request "
                    "was well-formed but its content refused (e.g. a decision without its reason)")


class ErrorOut(BaseModel):
    detail: Any = Field(description="what is wrong, in words (400 on a malformed query: "
                                    "{message, position, query})")
