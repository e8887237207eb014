"""Publication times as both indexes store and compare them: integer microseconds since the Unix
epoch, UTC. The SQLite index keeps them in `published_us` and builds its rowids from them; the
Elasticsearch index keeps the same integer in a `long` field, so a date filter is exact to the
microsecond in either."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

_US = timedelta(microseconds=1)


def epoch_us(moment: datetime) -> int:
    """Microseconds from the epoch to `moment` (timezone-aware)."""
    return (moment - EPOCH) // _US
