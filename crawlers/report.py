"""What one crawl pass did, per source: the numbers an operator and the source-health view need."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class SourceReport:
    name: str
    kind: str
    pages_fetched: int = 0
    items: int = 0
    duplicates_dropped: int = 0
    parse_errors: int = 0
    http_errors: int = 0
    skipped_requests: int = 0
    ingested: int = 0
    finish_reason: str = ""
    # Set when the source could not be crawled at all (e.g. no spider for its kind yet).
    error: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    # Errors by kind (redirect_loop, charset, timeout, gone, ...), from stats patrol/errors/<kind>/<source>.
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.finish_reason == "finished"

    @classmethod
    def from_stats(cls, name: str, kind: str, stats: dict[str, Any], state: dict[str, Any]) -> "SourceReport":
        responses = int(stats.get("downloader/response_count", 0))
        robots = int(stats.get("robotstxt/response_count", 0))
        return cls(
            name=name,
            kind=kind,
            pages_fetched=max(0, responses - robots),
            items=int(stats.get("item_scraped_count", 0)),
            duplicates_dropped=int(stats.get("patrol/duplicates_dropped", 0)),
            parse_errors=int(stats.get(f"patrol/parse_errors/{name}", 0)),
            http_errors=int(stats.get(f"patrol/http_errors/{name}", 0)),
            skipped_requests=int(stats.get(f"patrol/skipped/{name}", 0)),
            finish_reason=str(stats.get("finish_reason", "")),
            state=state,
            errors=_errors_by_kind(name, stats),
        )


def _errors_by_kind(source: str, stats: dict[str, Any]) -> dict[str, int]:
    suffix = f"/{source}"
    out: dict[str, int] = {}
    for key, value in stats.items():
        if key.startswith("patrol/errors/") and key.endswith(suffix):
            kind = key[len("patrol/errors/"):-len(suffix)]
            if kind and "/" not in kind and value:
                out[kind] = int(value)
    return out


@dataclass
class CrawlReport:
    sources: dict[str, SourceReport] = field(default_factory=dict)
    # Whatever the ingest callable returned, one per batch, in order.
    ingest_reports: list[Any] = field(default_factory=list)

    @property
    def items(self) -> int:
        return sum(s.items for s in self.sources.values())

    @property
    def pages_fetched(self) -> int:
        return sum(s.pages_fetched for s in self.sources.values())

    @property
    def parse_errors(self) -> int:
        return sum(s.parse_errors for s in self.sources.values())

    @property
    def http_errors(self) -> int:
        return sum(s.http_errors for s in self.sources.values())

    def to_dict(self) -> dict[str, Any]:
        return {"sources": {name: asdict(s) for name, s in self.sources.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CrawlReport":
        return cls(sources={name: SourceReport(**s) for name, s in data.get("sources", {}).items()})
