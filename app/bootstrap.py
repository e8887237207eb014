"""The composition root: the only place that picks implementations.

Everything else receives what it needs as arguments. Backends are built lazily so that a command
that needs only the analyzer (`patrol classify`) does not open the database or the index.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from patrol.settings import Settings

log = logging.getLogger(__name__)


def build_index(settings: Settings):
    """The post index: Elasticsearch when PATROL_ELASTICSEARCH_URL is set, else embedded SQLite FTS5."""
    if settings.elasticsearch_url:
        from search.elastic_index import ElasticIndex

        return ElasticIndex(settings.elasticsearch_url, settings.elasticsearch_index)
    from search.sqlite_index import SqliteIndex

    settings.ensure_home()
    return SqliteIndex(settings.index_path)


def build_store(settings: Settings):
    from patrol.store import Store

    settings.ensure_home()
    return Store(settings.resolved_database_url)


def build_analyzer(settings: Settings):
    from nlp.analyzer import Analyzer

    model_path = settings.model_path  # None: the bundled model, when one ships
    return Analyzer.default(lexicon_dir=settings.lexicon_dir, model_path=model_path,
                            use_encoder=settings.model_encoder)


def build_rules(settings: Settings):
    from patrol.alerts import load_rules

    return load_rules(settings.rules)


@dataclass
class Services:
    """The backends of one Patrol process, built on first use."""

    settings: Settings

    @cached_property
    def store(self):
        return build_store(self.settings)

    @cached_property
    def index(self):
        return build_index(self.settings)

    @cached_property
    def analyzer(self):
        return build_analyzer(self.settings)

    @cached_property
    def rules(self):
        return build_rules(self.settings)

    @cached_property
    def ingestor(self):
        from patrol.ingest import Ingestor

        return Ingestor(store=self.store, index=IndexOnUse(self), analyzer=self.analyzer, rules=self.rules,
                        events=self.events)

    @cached_property
    def events(self):
        from patrol.events.updater import EventUpdater

        return EventUpdater(self.store.events, self.store.trends, source_places=source_places(self.settings))

    def close(self) -> None:
        if "index" in self.__dict__:
            self.index.close()
        if "store" in self.__dict__ and hasattr(self.store, "close"):
            self.store.close()


class IndexOnUse:
    """The index as the ingest step holds it: opened at its first use, and tried again at every
    use while it cannot be opened. An index that is down when a crawl or ingest starts (a corrupt
    file, Elasticsearch unreachable) raises IndexUnavailable from `add`, where the ingest step
    keeps the posts stored and marked for `patrol reindex`, instead of storing nothing at all."""

    def __init__(self, services: Services):
        self._services = services

    def __getattr__(self, name: str):
        return getattr(self._services.index, name)


def source_places(settings: Settings) -> dict[str, str]:
    """Each configured source's own place (sources.yaml `place:`), for the event views."""
    from crawlers.sources import SourcesFileError, load_sources

    try:
        return {s.name: s.place for s in load_sources(settings.sources) if s.place}
    except (SourcesFileError, FileNotFoundError, OSError):
        return {}   # no sources file (an ingest-only install): every source's place is unknown


def build_services(settings: Settings | None = None) -> Services:
    return Services(settings or Settings())
