"""Alerts and the rules that raise them.

A rule says, for one category (optionally for one source), how confident the classifier must be
before a duty officer is asked to look, how severe the alert is and how long it may wait.
`evaluate_rules` is a pure function of the post, its analysis, the rules and `now`: the same
inputs always give the same alert, including its id, so a re-crawl or a second crawler process
computes the very alert that is already stored.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Protocol

import yaml

from nlp.analysis import Analysis
# parse_duration: rules write durations as the taxonomy file does (15m, 2h, 1d); one parser for both.
from nlp.categories import CATEGORY_RANK, HARM_CATEGORIES, parse_duration
from patrol import taxonomy

DEFAULT_RULES_PATH = Path(__file__).parent / "data" / "rules.yaml"

OPS_SOURCE_HEALTH = taxonomy.OPS_SOURCE_HEALTH  # the category's one home is the taxonomy

# Alert states; the transitions between them live in patrol/reviews.py.
OPEN, CLAIMED, ESCALATED, CONFIRMED, DISMISSED = "open", "claimed", "escalated", "confirmed", "dismissed"
STATUSES = (OPEN, CLAIMED, ESCALATED, CONFIRMED, DISMISSED)
ACTIVE_STATUSES = (OPEN, CLAIMED, ESCALATED)


class RulesError(ValueError):
    """A rules file that cannot be used. Names the file, the rule (index and category), the key and why."""

    def __init__(self, path: Path | str, reason: str, index: int | None = None,
                 category: str | None = None, key: str | None = None):
        self.path = str(path)
        self.index = index
        self.category = category
        self.key = key
        self.reason = reason
        where = self.path
        if index is not None:
            where += f": rule #{index}" + (f" ({category})" if category else "")
        if key is not None:
            where += f": key '{key}'"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class MinorEscalation:
    """Evidence of a minor raises the alert to this severity and deadline.

    The analyser flags such evidence with a `term` equal to `marker` or starting with `marker:`
    (e.g. "minor" or "minor:幼女"), on an evidence item of the rule's category.
    """

    severity: str
    sla: timedelta
    marker: str = "minor"


@dataclass(frozen=True)
class AlertRule:
    category: str
    min_score: float
    severity: str
    sla: timedelta
    # None: the default for every source; a name: an override for that source only.
    source: str | None = None
    minor: MinorEscalation | None = None
    enabled: bool = True

    @property
    def name(self) -> str:
        return f"{self.category}@{self.source or 'default'}"


@dataclass(frozen=True)
class Alert:
    """An alert and the frozen copy of the post it is about (upstream posts get deleted or edited;
    the reviewer must see what was there when the alert was raised).

    Ops alerts (category `ops_source_health`) have no post: post_id is None and `text` explains.
    """

    id: str
    post_id: str | None
    source: str
    category: str
    labels: tuple[str, ...]
    severity: str
    score: float
    status: str
    opened_at: datetime
    due_at: datetime
    rule: str
    title: str = ""
    text: str = ""
    url: str = ""
    author: str = ""
    published_at: datetime | None = None
    fetched_at: datetime | None = None
    content_sha256: str = ""
    analysis: dict[str, Any] = field(default_factory=dict)
    post_version: int = 1
    # Review state, changed only through patrol.reviews.
    assignee: str | None = None
    claimed_at: datetime | None = None
    escalated: bool = False
    decision: str | None = None  # confirm | dismiss | escalate (the last decision taken)
    outcome: str | None = None  # the disposition of a confirm or the reason of a dismiss
    decision_note: str = ""
    decided_by: str | None = None
    decided_at: datetime | None = None
    # Grouping (patrol/grouping.py): a member names the lead alert it is attached to; the lead
    # (group_id None) counts itself and its members in group_size.
    group_id: str | None = None
    group_size: int = 1

    @property
    def is_ops(self) -> bool:
        return self.post_id is None

    def overdue(self, now: datetime) -> bool:
        return self.status in ACTIVE_STATUSES and now > self.due_at

    def with_changes(self, **changes: Any) -> "Alert":
        return replace(self, **changes)


class PostLike(Protocol):
    """What a rule needs to know about a post: RawPost and store.PostRecord both qualify."""

    id: str
    source: str
    url: str
    title: str
    text: str
    author: str
    published_at: datetime | None
    fetched_at: datetime
    content_sha256: str


def alert_id_for_post(post_id: str) -> str:
    # One alert per post, ever: deriving the id from the post makes every process compute the same id.
    return "a" + hashlib.sha256(f"post\x1f{post_id}".encode()).hexdigest()[:23]


def evaluate_rules(post: PostLike, analysis: Analysis, rules: Iterable[AlertRule], now: datetime,
                   version: int = 1) -> Alert | None:
    """The alert this post deserves under `rules`, or None.

    A label counts when a rule for its category (the source's override, else the default) is
    enabled and the label's score reaches the rule's threshold. The primary category is the
    matched label with the highest severity (ties broken by the severity order of the taxonomy
    file, nlp/data/taxonomy.yaml).
    """
    if analysis.primary == "none" and not analysis.labels:
        return None
    table = _rule_table(rules)
    matched: list[tuple[str, AlertRule, str, timedelta]] = []
    for label in analysis.labels:
        rule = table.get((label, post.source)) or table.get((label, None))
        if rule is None or not rule.enabled:
            continue
        if analysis.scores.get(label, 0.0) < rule.min_score:
            continue
        severity, sla = rule.severity, rule.sla
        if rule.minor is not None and _has_minor_evidence(analysis, label, rule.minor.marker):
            severity, sla = rule.minor.severity, rule.minor.sla
        matched.append((label, rule, severity, sla))
    if not matched:
        return None
    matched.sort(key=lambda m: (taxonomy.SEVERITY_RANK[m[2]], _category_rank(m[0])))
    category, rule, severity, sla = matched[0]
    return Alert(
        id=alert_id_for_post(post.id),
        post_id=post.id,
        source=post.source,
        category=category,
        labels=tuple(m[0] for m in matched),
        severity=severity,
        score=float(analysis.scores.get(category, 0.0)),
        status=OPEN,
        opened_at=now,
        due_at=now + sla,
        rule=rule.name + ("+minor" if (severity, sla) != (rule.severity, rule.sla) else ""),
        title=post.title,
        text=post.text,
        url=post.url,
        author=post.author,
        published_at=post.published_at,
        fetched_at=post.fetched_at,
        content_sha256=post.content_sha256,
        analysis=analysis.to_dict(),
        post_version=version,
    )


def source_health_alert(source_name: str, reason: str, now: datetime) -> Alert:
    """An operations alert: a source has gone silent or keeps failing, so posts may be missed."""
    severity = taxonomy.DEFAULT_SEVERITY[OPS_SOURCE_HEALTH]
    digest = hashlib.sha256(f"ops\x1f{source_name}\x1f{now.isoformat()}".encode()).hexdigest()[:23]
    return Alert(
        id="o" + digest,
        post_id=None,
        source=source_name,
        category=OPS_SOURCE_HEALTH,
        labels=(OPS_SOURCE_HEALTH,),
        severity=severity,
        score=1.0,
        status=OPEN,
        opened_at=now,
        due_at=now + taxonomy.SLA[OPS_SOURCE_HEALTH],
        rule=f"{OPS_SOURCE_HEALTH}@{source_name}",
        title=f"Source {source_name} needs attention",
        text=reason,
    )


def _has_minor_evidence(analysis: Analysis, category: str, marker: str) -> bool:
    return any(
        e.category == category and (e.term == marker or e.term.startswith(marker + ":"))
        for e in analysis.evidence
    )


def _category_rank(category: str) -> int:
    # the taxonomy file's severity order; an unknown category sorts last
    return CATEGORY_RANK.get(category, len(CATEGORY_RANK))


def _rule_table(rules: Iterable[AlertRule]) -> dict[tuple[str, str | None], AlertRule]:
    return {(r.category, r.source): r for r in rules}


# --- the rules file -------------------------------------------------------------------------

_RULE_KEYS = {"category", "min_score", "severity", "sla", "source", "minor", "enabled"}
_MINOR_KEYS = {"severity", "sla", "marker"}


def load_rules(path: Path | str | None = None) -> list[AlertRule]:
    """Rules from a YAML file (the bundled default when `path` is None). The file is refused as a
    whole on the first problem, with the file, the rule index and category, the key and the reason."""
    path = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(path, f"cannot be read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise RulesError(path, f"is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise RulesError(path, "must be a mapping with a 'rules' list", key="rules")
    rules: list[AlertRule] = []
    seen: dict[tuple[str, str | None], int] = {}
    for index, item in enumerate(doc["rules"], start=1):
        rule = _parse_rule(path, index, item)
        if (rule.category, rule.source) in seen:
            raise RulesError(path, f"duplicates rule #{seen[(rule.category, rule.source)]} "
                             f"for the same category and source", index, rule.category,
                             "source" if rule.source else "category")
        seen[(rule.category, rule.source)] = index
        rules.append(rule)
    return rules


def _parse_rule(path: Path, index: int, item: Any) -> AlertRule:
    if not isinstance(item, dict):
        raise RulesError(path, f"must be a mapping, got {type(item).__name__}", index)
    category = item.get("category")

    def fail(key: str, reason: str) -> RulesError:
        return RulesError(path, reason, index, category if isinstance(category, str) else None, key)

    unknown = sorted(set(map(str, item)) - _RULE_KEYS)
    if unknown:
        raise fail(unknown[0], f"is not a rule key (expected one of {', '.join(sorted(_RULE_KEYS))})")
    if not isinstance(category, str) or category not in HARM_CATEGORIES:
        raise fail("category", f"must be one of {', '.join(HARM_CATEGORIES)}, got {category!r}")
    min_score = item.get("min_score")
    if isinstance(min_score, bool) or not isinstance(min_score, (int, float)) or not 0 <= min_score <= 1:
        raise fail("min_score", f"must be a number between 0 and 1, got {min_score!r}")
    severity = item.get("severity", taxonomy.DEFAULT_SEVERITY[category])
    if severity not in taxonomy.SEVERITIES:
        raise fail("severity", f"must be one of {', '.join(taxonomy.SEVERITIES)}, got {severity!r}")
    try:
        sla = parse_duration(item["sla"]) if "sla" in item else taxonomy.SLA[category]
    except ValueError as exc:
        raise fail("sla", str(exc)) from None
    source = item.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise fail("source", f"must be a source name, got {source!r}")
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail("enabled", f"must be true or false, got {enabled!r}")
    minor = None
    if item.get("minor") is not None:
        minor = _parse_minor(item["minor"], fail)
    return AlertRule(category=category, min_score=float(min_score), severity=severity, sla=sla,
                     source=source, minor=minor, enabled=enabled)


def _parse_minor(spec: Any, fail) -> MinorEscalation:
    if not isinstance(spec, dict):
        raise fail("minor", "must be a mapping with severity and sla")
    unknown = sorted(set(map(str, spec)) - _MINOR_KEYS)
    if unknown:
        raise fail(f"minor.{unknown[0]}", f"is not a key of minor (expected {', '.join(sorted(_MINOR_KEYS))})")
    severity = spec.get("severity", taxonomy.MINOR_ESCALATION[0])
    if severity not in taxonomy.SEVERITIES:
        raise fail("minor.severity", f"must be one of {', '.join(taxonomy.SEVERITIES)}, got {severity!r}")
    try:
        sla = parse_duration(spec["sla"]) if "sla" in spec else taxonomy.MINOR_ESCALATION[1]
    except ValueError as exc:
        raise fail("minor.sla", str(exc)) from None
    marker = spec.get("marker", "minor")
    if not isinstance(marker, str) or not marker:
        raise fail("minor.marker", f"must be a non-empty string, got {marker!r}")
    return MinorEscalation(severity=severity, sla=sla, marker=marker)
