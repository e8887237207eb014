"""The categories an alert can have, their severity, review deadline (SLA) and Chinese label.

All of it comes from the one taxonomy file, nlp/data/taxonomy.yaml, read through nlp.categories
(the classifier needs the same codes and order, and nlp imports nothing of ours): the post
categories and the no-harm code are the classifier's, the operations categories are raised by the
core. Adapters (the console, the API) read categories and labels from here instead of repeating them.
"""
from __future__ import annotations

from datetime import timedelta

# HARM_CATEGORIES and NONE are re-exported for the adapters: the post categories, most severe
# first, and the classifier's no-harm code.
from nlp.categories import HARM_CATEGORIES, NONE, TAXONOMY, TaxonomyError

# Operations alerts (a source gone silent) are about collection gaps, not posts. The core raises
# this one by name (patrol/alerts.py source_health_alert), so the file must list it.
OPS_SOURCE_HEALTH = "ops_source_health"
if OPS_SOURCE_HEALTH not in {c.code for c in TAXONOMY.operations}:
    raise TaxonomyError(TAXONOMY.path, f"operations: {OPS_SOURCE_HEALTH!r} is missing "
                        "(the core raises it: patrol/taxonomy.py)")

# Every category an alert can carry, the post categories most severe first, then operations.
ALERT_CATEGORIES: tuple[str, ...] = HARM_CATEGORIES + tuple(c.code for c in TAXONOMY.operations)

SEVERITIES: tuple[str, ...] = TAXONOMY.severities
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}

_ALERTABLE = TAXONOMY.harm + TAXONOMY.operations
DEFAULT_SEVERITY: dict[str, str] = {c.code: c.severity for c in _ALERTABLE}
SLA: dict[str, timedelta] = {c.code: c.sla for c in _ALERTABLE}

# porn_sexual involving a minor: (severity, SLA), the default of a rule's `minor:` escalation.
MINOR_ESCALATION: tuple[str, timedelta] = TAXONOMY.minor_escalation

# What an officer reads for each code (the codes stay the stable identifiers); `none` is the
# classifier's "no harm found", shown on posts and scores.
LABEL_ZH: dict[str, str] = {c.code: c.label_zh for c in TAXONOMY.harm + (TAXONOMY.no_harm,) + TAXONOMY.operations}
