"""Thread context in the alert rules: a reply that answers a harmful post is not the harmful post.

`helper_labels` is pure: given a reply's text and its parent's labels, it names the labels the
helper-reply rules (patrol/data/thread_rules.yaml) say the reply does not deserve. The ingest
step drops them from the reply's analysis before the alert rules run, so what is left (if
anything) is judged by the ordinary rules. Only replies are screened, and only when the crawl
recorded the parent.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import yaml

from nlp.categories import HARM_CATEGORIES
from patrol.alerts import RulesError

DEFAULT_THREAD_RULES = Path(__file__).parent / "data" / "thread_rules.yaml"
# Never dropped by a helper rule: a reply at risk of life is its own case whatever it says.
LIFE_RISK = ("self_harm", "violence_terror")


@dataclass(frozen=True)
class HelperRule:
    parent: frozenset[str]
    phrases: tuple[str, ...]
    not_for: frozenset[str]


def load_thread_rules(path: Path | str | None = None) -> list[HelperRule]:
    path = Path(path) if path is not None else DEFAULT_THREAD_RULES
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(path, f"cannot be read as YAML: {exc}") from exc
    items = (doc or {}).get("helper_replies") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise RulesError(path, "must be a mapping with a 'helper_replies' list", key="helper_replies")
    rules = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict) or set(item) != {"parent", "phrases", "not_for"}:
            raise RulesError(path, "must be a mapping with exactly parent, phrases and not_for", index)
        for key in ("parent", "not_for"):
            values = item[key]
            if not isinstance(values, list) or not values or any(v not in HARM_CATEGORIES for v in values):
                raise RulesError(path, f"must be a list of categories among {', '.join(HARM_CATEGORIES)}", index, key=key)
        if any(v in LIFE_RISK for v in item["not_for"]):
            raise RulesError(path, f"may not drop a life-risk label ({', '.join(LIFE_RISK)})", index, key="not_for")
        phrases = item["phrases"]
        if not isinstance(phrases, list) or not phrases or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise RulesError(path, "must be a list of non-empty phrases", index, key="phrases")
        rules.append(HelperRule(frozenset(item["parent"]), tuple(p.strip() for p in phrases), frozenset(item["not_for"])))
    return rules


def helper_labels(reply_text: str, parent_labels: Iterable[str], rules: Iterable[HelperRule]) -> frozenset[str]:
    """The labels a reply earned only by helping: the `not_for` of every rule whose parent label
    the parent has and one of whose phrases the reply contains. Empty for an ordinary reply."""
    parent = set(parent_labels)
    dropped: set[str] = set()
    for rule in rules:
        if parent & rule.parent and any(p in reply_text for p in rule.phrases):
            dropped |= rule.not_for
    return frozenset(dropped)
