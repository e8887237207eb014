"""The workflow database. Everything callers use is importable from here:
`from patrol.store import Store, PostRecord, AlertFilter, NotFound, ...`.

front.py holds `Store`, the one front; behind it one repository module per noun (posts, alerts,
users, audit, sources, counts) over database.py (engine, transactions, migrations)."""
from patrol.store.alerts import MAX_BULK, MAX_PAGE
from patrol.store.database import SYSTEM_ACTOR
from patrol.store.engine import make_engine
from patrol.store.front import Store
from patrol.store.records import (
    AlertDetail, AlertFilter, AlertPage, BulkOutcome, InvalidFilter, LabelExample, Note, NotFound, PostRecord,
    PostVersion, QueueCounts, SaveReport, SourceHealth, StoreError, ThreadContext, StoreUnavailable, UserExists,
)
from patrol.store.schema import UTCDateTime, metadata

__all__ = [
    "MAX_BULK", "MAX_PAGE", "SYSTEM_ACTOR", "Store", "make_engine", "AlertDetail", "AlertFilter", "AlertPage",
    "BulkOutcome", "InvalidFilter", "LabelExample", "Note", "NotFound", "PostRecord", "PostVersion",
    "QueueCounts", "SaveReport", "SourceHealth", "StoreError", "ThreadContext", "StoreUnavailable", "UserExists", "UTCDateTime", "metadata",
]
