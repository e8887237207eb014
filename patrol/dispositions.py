"""What a confirmed alert led to (已报警, 已联系救助, 已预警受害人 …), per category, from the
`dispositions:` section of the rules file (patrol/data/rules.yaml).

The bundled file is read once at import, like the taxonomy: a broken section stops the process
at start, naming the file and the key. `common` dispositions apply to every category; a
category's own come first.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from patrol.alerts import DEFAULT_RULES_PATH, RulesError
from patrol.taxonomy import ALERT_CATEGORIES

COMMON = "common"


def load_dispositions(path: Path | str) -> dict[str, dict[str, str]]:
    """{"common" | category: {code: label_zh}} from a rules file, checked whole."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(path, f"cannot be read as YAML: {exc}") from exc
    section: Any = (doc or {}).get("dispositions")
    if not isinstance(section, dict) or not isinstance(section.get(COMMON), dict) or not section[COMMON]:
        raise RulesError(path, "needs a 'dispositions' mapping with a non-empty 'common' list", key="dispositions")
    out: dict[str, dict[str, str]] = {}
    labels: dict[str, str] = {}
    for group, entries in section.items():
        where = f"dispositions.{group}"
        if group != COMMON and group not in ALERT_CATEGORIES:
            raise RulesError(path, f"is not a category (expected common or one of {', '.join(ALERT_CATEGORIES)})",
                             key=where)
        if not isinstance(entries, dict) or not entries:
            raise RulesError(path, "must map disposition codes to Chinese labels", key=where)
        for code, label in entries.items():
            if not isinstance(code, str) or not code.isidentifier() or not isinstance(label, str) or not label.strip():
                raise RulesError(path, f"{code!r}: needs a code (letters, digits, _) and a label", key=where)
            if labels.get(code, label) != label:
                raise RulesError(path, f"{code!r} has two labels ({labels[code]!r}, {label!r})", key=where)
            labels[code] = label
        out[group] = {str(k): str(v) for k, v in entries.items()}
    return out


BY_CATEGORY = load_dispositions(DEFAULT_RULES_PATH)
# code -> Chinese label, every disposition of every category.
LABEL_ZH: dict[str, str] = {code: label for entries in BY_CATEGORY.values() for code, label in entries.items()}
# Every disposition code: the API's accepted values (common first, then by category).
ALL: tuple[str, ...] = tuple(LABEL_ZH)


def for_category(category: str) -> tuple[str, ...]:
    """The dispositions an alert of `category` may be confirmed with: its own first, then common."""
    own = tuple(BY_CATEGORY.get(category, {}))
    return own + tuple(c for c in BY_CATEGORY[COMMON] if c not in own)
