"""The analyzer of a long-running process (`patrol serve`, `patrol crawl --loop`) that follows the
model registry: when a model is promoted or rolled back, the next batch is analysed with it, without
a restart.

Why here: the registry is the core's (patrol.model_registry), the analyzer is nlp's, and only the
composition root may put the two together. PATROL_MODEL_PATH, when set, pins a model file and
this wrapper is not used (app.bootstrap).

The registry's signature (one stat of registry.json) is checked at most every `check_every`
seconds. The new analyzer is built aside and swapped in with one reference assignment, so a batch
running meanwhile finishes on the old model; a model that cannot be loaded is logged and the model
in use stays, since a broken promotion must not stop the ingest.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from patrol.model_registry import ModelRegistry, RegistryError

log = logging.getLogger(__name__)


class LiveAnalyzer:
    def __init__(self, registry: ModelRegistry, build: Callable[[object], object], check_every: float = 2.0):
        """`build(model_path_or_None)` makes an Analyzer (None: the bundled model)."""
        self._registry = registry
        self._build = build
        self._check_every = check_every
        self._lock = threading.Lock()
        self._signature = registry.signature()
        self._analyzer = build(registry.current_path())
        self._checked = time.monotonic()

    @property
    def analyzer(self):
        """The analyzer in use now, after picking up a promotion if one happened."""
        self.refresh()
        return self._analyzer

    def refresh(self, force: bool = False) -> bool:
        """Load the promoted model if the registry changed; True when a new model went live."""
        if not force and time.monotonic() - self._checked < self._check_every:
            return False
        with self._lock:
            self._checked = time.monotonic()
            signature = self._registry.signature()
            if signature == self._signature:
                return False
            try:
                new = self._build(self._registry.current_path())
            except (RegistryError, OSError, ValueError) as exc:
                log.error("the promoted model could not be loaded, the model in use stays: %s", exc)
                self._signature = signature  # reported once per change, not once per batch
                return False
            old = self._analyzer.model_version
            self._analyzer = new
            self._signature = signature
            log.warning("model changed without restart: %s -> %s", old, new.model_version)
            return True

    # What the ingest step, the API and the crawl loop call:

    def analyse(self, text):
        return self.analyzer.analyse(text)

    def analyse_batch(self, texts):
        return self.analyzer.analyse_batch(texts)

    @property
    def model_version(self) -> str:
        return self.analyzer.model_version

    def __getattr__(self, name: str):
        # lexicon, model, thresholds, reload_lexicons, reload_lexicons_if_changed, ...
        return getattr(self.analyzer, name)
