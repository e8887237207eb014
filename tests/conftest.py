"""Suite-wide guards. Under CI (`make test`), the real services must be there: a missing one is a
failure, not a silent skip."""
from __future__ import annotations

import os

import pytest


def pytest_sessionstart(session):
    if os.environ.get("CI") == "true":
        missing = [v for v in ("PATROL_TEST_REDIS_URL", "PATROL_TEST_DATABASE_URL") if not os.environ.get(v)]
        if missing:
            raise pytest.UsageError(
                f"CI run without {', '.join(missing)}: run the suite through `make test`, "
                "which starts redis-server and PostgreSQL (scripts/services.sh)")
