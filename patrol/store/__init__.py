"""The workflow database (see database.py). Everything callers use is importable from here:
`from patrol.store import Store, PostRecord, AlertFilter, NotFound, ...`."""
from patrol.store.database import MAX_BULK, MAX_PAGE, SYSTEM_ACTOR, Store
from patrol.store.engine import make_engine
from patrol.store.records import (
    AlertDetail, AlertFilter, AlertPage, BulkOutcome, InvalidFilter, LabelExample, Note, NotFound, PostRecord,
    PostVersion, SaveReport, SourceHealth, StoreError, StoreUnavailable, UserExists,
)
from patrol.store.schema import UTCDateTime, metadata

__all__ = [
    "MAX_BULK", "MAX_PAGE", "SYSTEM_ACTOR", "Store", "make_engine", "AlertDetail", "AlertFilter", "AlertPage",
    "BulkOutcome", "InvalidFilter", "LabelExample", "Note", "NotFound", "PostRecord", "PostVersion",
    "SaveReport", "SourceHealth", "StoreError", "StoreUnavailable", "UserExists", "UTCDateTime", "metadata",
]
