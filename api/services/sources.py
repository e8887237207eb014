"""Each source's collection health, as the store records it after every crawl pass."""
from __future__ import annotations

from api.schemas import SourceHealthOut


def source_rows(svc) -> list[SourceHealthOut]:
    return [SourceHealthOut(source=h.source, last_pass_at=h.last_pass_at, last_success_at=h.last_success_at,
                            items_last_pass=h.items_last_pass, errors_last_pass=dict(h.errors_last_pass),
                            consecutive_empty=h.consecutive_empty, passes=h.passes)
            for h in svc.store.source_health()]
