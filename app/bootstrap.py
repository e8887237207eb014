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


def build_index(settings: Settings, store=None):
    """The post index: Elasticsearch when PATROL_ELASTICSEARCH_URL is set, else the embedded one
    PATROL_INDEX_ENGINE names (tantivy by default, SQLite FTS5 on request). Given the store, the
    index must be this store's (patrol/index_identity.py): a missing or foreign one raises
    IndexUnavailable, and no empty index is created in place of a lost one."""
    index = _open_index(settings, create=store is None or not store.has_indexed_posts())
    if store is not None:
        from patrol.index_identity import check_index

        try:
            check_index(store, index)
        except BaseException:
            index.close()
            raise
    return index


def _open_index(settings: Settings, create: bool):
    if settings.elasticsearch_url:
        from search.elastic_index import ElasticIndex
        from search.spool import SpooledIndex

        settings.ensure_home()
        return SpooledIndex(lambda: ElasticIndex(settings.elasticsearch_url, settings.elasticsearch_index),
                            settings.home / "index-spool.sqlite")
    settings.ensure_home()
    legacy = settings.home / "index.sqlite"
    if settings.index_engine == "sqlite" or (
            "index_engine" not in settings.model_fields_set and legacy.exists() and not settings.index_path.exists()):
        from search.sqlite_index import SqliteIndex

        if settings.index_engine != "sqlite":
            # A home from before tantivy: an empty new index would hide every post until rebuilt.
            log.warning("keeping the existing SQLite FTS5 index %s; set PATROL_INDEX_ENGINE=tantivy to switch "
                        "(the new index then needs every post written again)", legacy)
        return SqliteIndex(legacy, create=create)
    from search.tantivy_index import TantivyIndex

    return TantivyIndex(settings.index_path, create=create)


def build_audit_key(settings: Settings):
    from patrol.audit_key import load_audit_key

    configured = settings.audit.key.get_secret_value() if settings.audit.key else None
    return load_audit_key(settings.home, configured)


def build_checkpoints(settings: Settings, key=None):
    from patrol.checkpoints import CheckpointLog

    return CheckpointLog(settings.checkpoint_path, key or build_audit_key(settings))


def build_store(settings: Settings):
    """The workflow database with the audit key. An unkeyed chain is keyed at open, unless
    checkpoints already exist (they were taken of a keyed chain: keying it again would bless a
    chain someone un-keyed; `patrol audit verify` reports it instead). The first checkpoint is
    written at once, so the keying is anchored outside the database from the start."""
    from patrol.audit_anchor import ChainBroken, take_checkpoint
    from patrol.store import Store

    settings.ensure_home()
    key = build_audit_key(settings)
    checkpoints = build_checkpoints(settings, key)
    had_checkpoints = checkpoints.path.exists() and checkpoints.path.stat().st_size > 0
    store = Store(settings.resolved_database_url, audit_key=key, key_chain=not had_checkpoints)
    if not had_checkpoints:
        try:
            take_checkpoint(store, checkpoints)
        except ChainBroken as exc:  # served anyway; `patrol audit verify` says what is wrong
            log.warning("%s", exc)
    return store


def build_analyzer(settings: Settings, model_path=None):
    """PATROL_MODEL_PATH when set, else the model promoted in the registry (`patrol model`), else
    the bundled one. `model_path` names a file explicitly (the lifecycle's candidates)."""
    from nlp.analyzer import Analyzer

    if model_path is None:
        model_path = settings.model_path or model_registry(settings).current_path()
    return Analyzer.default(lexicon_dir=settings.lexicon_dir, model_path=model_path,
                            use_encoder=settings.model_encoder)


def model_registry(settings: Settings):
    from patrol.model_registry import ModelRegistry

    return ModelRegistry(settings.home)


def build_live_analyzer(settings: Settings):
    """The analyzer of the long-running processes: follows promotions (app/live_model.py), unless
    PATROL_MODEL_PATH pins a file."""
    if settings.model_path is not None:
        return build_analyzer(settings)
    from app.live_model import LiveAnalyzer
    from nlp.analyzer import Analyzer

    return LiveAnalyzer(model_registry(settings), lambda path: Analyzer.default(
        lexicon_dir=settings.lexicon_dir, model_path=path, use_encoder=settings.model_encoder))


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
    def checkpoints(self):
        """The signed checkpoint file of the audit chain (patrol/checkpoints.py)."""
        return build_checkpoints(self.settings, self.store.audit_key)

    @cached_property
    def index(self):
        return build_index(self.settings, self.store)

    @cached_property
    def analyzer(self):
        return build_live_analyzer(self.settings)

    @cached_property
    def rules(self):
        # The rules file with the administrators' changes from the database (patrol/rule_overrides.py).
        from patrol.rule_overrides import apply_overrides
        return apply_overrides(build_rules(self.settings), self.store.rule_overrides())

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
