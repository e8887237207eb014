"""The category codes and their severity order, read from the taxonomy file (nlp/data/taxonomy.yaml).

The codes are the stable identifiers used in the API, the index and the model. The file is the one
home of the taxonomy: besides the codes and their order it holds each category's severity, review
deadline (SLA), Chinese label, the signals that boost it and whether it has human-labelled training
data; `TAXONOMY` carries all of it for the modules that need more than the codes (patrol/taxonomy.py,
the rule scoring, the training data). The file is checked whole at import: a broken one raises
`TaxonomyError` naming the file and the reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

TAXONOMY_PATH = Path(__file__).parent / "data" / "taxonomy.yaml"

# The categories the code names (rule scoring treats pii_leak and the ad-like ones specially): the
# file must keep them, so a rename there fails at load instead of silently dropping the special case.
SELF_HARM = "self_harm"
VIOLENCE_TERROR = "violence_terror"
WEAPONS = "weapons"
DRUGS = "drugs"
FRAUD = "fraud"
GAMBLING = "gambling"
PORN_SEXUAL = "porn_sexual"
ILLICIT_ADS = "illicit_ads"
PII_LEAK = "pii_leak"
ABUSE_HATE = "abuse_hate"
NONE = "none"
_NAMED_IN_CODE = (SELF_HARM, VIOLENCE_TERROR, WEAPONS, DRUGS, FRAUD, GAMBLING, PORN_SEXUAL,
                  ILLICIT_ADS, PII_LEAK, ABUSE_HATE)

# The signals a category may be boosted by (nlp/data/lexicons/contact.txt and trade.txt).
SIGNALS = ("contact", "trade")


class TaxonomyError(ValueError):
    """A taxonomy file that cannot be used; the message names the file, the entry and the reason."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class Category:
    code: str
    label_zh: str
    severity: str | None = None  # None only for the no-harm code
    sla: timedelta | None = None
    boosted_by: frozenset[str] = frozenset()
    human_labelled: bool = False


@dataclass(frozen=True)
class Taxonomy:
    path: Path
    severities: tuple[str, ...]
    harm: tuple[Category, ...]  # most severe first
    no_harm: Category
    operations: tuple[Category, ...]
    minor_escalation: tuple[str, timedelta]

    def boosted_by(self, signal: str) -> frozenset[str]:
        """The harm categories that `signal` (contact, trade) boosts."""
        return frozenset(c.code for c in self.harm if signal in c.boosted_by)

    @property
    def human_labelled(self) -> frozenset[str]:
        return frozenset(c.code for c in self.harm if c.human_labelled)


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: Any) -> timedelta:
    """'15m', '2h', '1d', '30s' -> timedelta (the taxonomy file and the alert rules write them so).
    Raises ValueError with what was expected."""
    m = _DURATION.match(str(text)) if isinstance(text, (str, int)) else None
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"must be a positive duration like 15m, 2h or 1d, got {text!r}")
    return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})


_TOP_KEYS = ("severities", "categories", "no_harm", "operations", "minor_escalation")
_HARM_KEYS = {"code": True, "label_zh": True, "severity": True, "sla": True, "boosted_by": False,
              "human_labelled": False}  # field -> required
_OPS_KEYS = {"code": True, "label_zh": True, "severity": True, "sla": True}
_NO_HARM_KEYS = {"code": True, "label_zh": True}
_MINOR_KEYS = {"severity": True, "sla": True}
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def load_taxonomy(path: Path | str = TAXONOMY_PATH) -> Taxonomy:
    """The taxonomy in `path`, checked whole; `TaxonomyError` (file and reason) on the first problem."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TaxonomyError(path, f"cannot be read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise TaxonomyError(path, f"is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise TaxonomyError(path, f"must be a mapping with the keys {', '.join(_TOP_KEYS)}")
    _check_keys(path, "the file", doc, dict.fromkeys(_TOP_KEYS, True))

    severities = doc["severities"]
    if (not isinstance(severities, list) or not severities
            or not all(isinstance(s, str) and s for s in severities)):
        raise TaxonomyError(path, f"severities: must be a list of names, got {severities!r}")
    if len(set(severities)) != len(severities):
        raise TaxonomyError(path, f"severities: a severity is listed twice in {severities!r}")

    seen: dict[str, str] = {}

    def entries(key: str, fields: dict[str, bool]) -> list[Category]:
        items = doc[key]
        if not isinstance(items, list) or not items:
            raise TaxonomyError(path, f"{key}: must be a non-empty list of entries")
        return [_entry(path, f"{key}[{i}]", item, fields, severities, seen) for i, item in enumerate(items)]

    harm = entries("categories", _HARM_KEYS)
    operations = entries("operations", _OPS_KEYS)
    no_harm = _entry(path, "no_harm", doc["no_harm"], _NO_HARM_KEYS, severities, seen)
    if no_harm.code != NONE:
        raise TaxonomyError(path, f"no_harm: code must be {NONE!r} (the classifier's no-harm answer), "
                            f"got {no_harm.code!r}")
    codes = {c.code for c in harm}
    for code in _NAMED_IN_CODE:
        if code not in codes:
            raise TaxonomyError(path, f"categories: {code!r} is missing (the code names it: nlp/categories.py)")
    minor = doc["minor_escalation"]
    if not isinstance(minor, dict):
        raise TaxonomyError(path, "minor_escalation: must be a mapping with severity and sla")
    _check_keys(path, "minor_escalation", minor, _MINOR_KEYS)
    return Taxonomy(
        path=path,
        severities=tuple(severities),
        harm=tuple(harm),
        no_harm=no_harm,
        operations=tuple(operations),
        minor_escalation=(_severity(path, "minor_escalation", minor, severities),
                          _sla(path, "minor_escalation", minor)),
    )


def _check_keys(path: Path, where: str, item: dict, fields: dict[str, bool]) -> None:
    unknown = sorted(set(map(str, item)) - set(fields))
    if unknown:
        raise TaxonomyError(path, f"{where}: {unknown[0]!r} is not a field (expected {', '.join(fields)})")
    missing = [k for k, required in fields.items() if required and k not in item]
    if missing:
        raise TaxonomyError(path, f"{where}: {missing[0]!r} is missing")


def _entry(path: Path, where: str, item: Any, fields: dict[str, bool], severities: list[str],
           seen: dict[str, str]) -> Category:
    if not isinstance(item, dict):
        raise TaxonomyError(path, f"{where}: must be a mapping, got {type(item).__name__}")
    code = item.get("code")
    if isinstance(code, str):
        where = f"{where} ({code})"
    _check_keys(path, where, item, fields)
    if not isinstance(code, str) or not _CODE.match(code):
        raise TaxonomyError(path, f"{where}: code must be a lower-case identifier, got {code!r}")
    if code in seen:
        raise TaxonomyError(path, f"{where}: code {code!r} is listed twice (first at {seen[code]})")
    seen[code] = where
    label = item["label_zh"]
    if not isinstance(label, str) or not label.strip():
        raise TaxonomyError(path, f"{where}: label_zh must be a non-empty string, got {label!r}")
    boosted_by = item.get("boosted_by", [])
    if not isinstance(boosted_by, list) or any(s not in SIGNALS for s in boosted_by):
        raise TaxonomyError(path, f"{where}: boosted_by must be a list of {', '.join(SIGNALS)}, got {boosted_by!r}")
    human = item.get("human_labelled", False)
    if not isinstance(human, bool):
        raise TaxonomyError(path, f"{where}: human_labelled must be true or false, got {human!r}")
    return Category(
        code=code,
        label_zh=label,
        severity=_severity(path, where, item, severities) if "severity" in fields else None,
        sla=_sla(path, where, item) if "sla" in fields else None,
        boosted_by=frozenset(boosted_by),
        human_labelled=human,
    )


def _severity(path: Path, where: str, item: dict, severities: list[str]) -> str:
    severity = item["severity"]
    if severity not in severities:
        raise TaxonomyError(path, f"{where}: severity must be one of {', '.join(severities)}, got {severity!r}")
    return severity


def _sla(path: Path, where: str, item: dict) -> timedelta:
    try:
        return parse_duration(item["sla"])
    except ValueError as exc:
        raise TaxonomyError(path, f"{where}: sla {exc}") from None


TAXONOMY = load_taxonomy()

# Ordered from most to least severe, so that "the highest-severity label" is the first one in this order.
HARM_CATEGORIES: tuple[str, ...] = tuple(c.code for c in TAXONOMY.harm)
ALL_CODES: tuple[str, ...] = HARM_CATEGORIES + (NONE,)

# A harm category's place in the severity order (0 = most severe).
CATEGORY_RANK: dict[str, int] = {code: i for i, code in enumerate(HARM_CATEGORIES)}


def most_severe(labels) -> str:
    """The primary category among `labels`: the one listed first in HARM_CATEGORIES, or `none`."""
    ranked = sorted((c for c in labels if c in CATEGORY_RANK), key=CATEGORY_RANK.__getitem__)
    return ranked[0] if ranked else NONE
