"""The registry of model versions in the Patrol home (issue 15): each version's file and card,
which one is promoted, and the order of promotions (for rollback).

    $PATROL_HOME/models/
        registry.json               {"current": "m-…" | null, "stack": ["m-…", …]}
        <version>/patrol-model.skops
        <version>/card.json         what `patrol adapt` measured, the gate's verdict, the training report
        adapt.lock                  held by the one `patrol adapt` that may run
        registry.lock               held while registry.json is rewritten

"current": null means the model bundled in nlp/data/model/. "stack" is the promotions in order,
the current one last: `rollback` drops the last and the one before it (or the bundled model) is
current again. registry.json is replaced by an atomic rename, so a process reading it never sees
half a file; long-running processes (`patrol serve`, `patrol crawl --loop`) watch its signature
and load the promoted model when it changes (app/live_model.py).

Locks are POSIX advisory file locks (fcntl), released by the kernel when a process dies, so a
crashed `patrol adapt` never leaves the registry locked.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

MODEL_FILE = "patrol-model.skops"
CARD_FILE = "card.json"
BUNDLED = "bundled"  # how the bundled model is named where a version is expected


class RegistryError(Exception):
    """A registry operation that cannot be done; the message says what and where."""


class AdaptBusy(RegistryError):
    """Another `patrol adapt` holds the lock."""


class RegistryChanged(RegistryError):
    """The promoted model changed while a candidate was being judged against it."""


@dataclass(frozen=True)
class ModelVersion:
    version: str
    path: Path  # the model file
    card: dict
    current: bool


class ModelRegistry:
    def __init__(self, home: Path):
        self.dir = Path(home) / "models"
        self._file = self.dir / "registry.json"

    # -- reading -----------------------------------------------------------------------------

    def _state(self) -> dict:
        try:
            state = json.loads(self._file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"current": None, "stack": []}
        except (OSError, ValueError) as exc:
            raise RegistryError(f"{self._file}: unreadable model registry ({exc})") from exc
        if not isinstance(state, dict) or not isinstance(state.get("stack"), list):
            raise RegistryError(f"{self._file}: not a model registry (wants current and stack)")
        return state

    def current(self) -> str | None:
        """The promoted version, or None for the bundled model."""
        return self._state().get("current")

    def current_path(self) -> Path | None:
        """The promoted model's file, or None for the bundled model. A promoted version whose file
        is gone is an error, not a silent fall-back to another model."""
        version = self.current()
        if version is None:
            return None
        path = self.model_path(version)
        if not path.is_file():
            raise RegistryError(f"{self._file}: the promoted model {version} has no file at {path}")
        return path

    def signature(self) -> tuple:
        """Changes whenever registry.json is replaced: cheap enough to check before each batch."""
        try:
            st = self._file.stat()
        except FileNotFoundError:
            return ()
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def model_path(self, version: str) -> Path:
        return self._version_dir(version) / MODEL_FILE

    def _version_dir(self, version: str) -> Path:
        if not version or "/" in version or "\\" in version or version.startswith(".") or version == BUNDLED:
            raise RegistryError(f"{version!r} is not a model version name")
        return self.dir / version

    def get(self, version: str) -> ModelVersion:
        d = self._version_dir(version)
        if not (d / MODEL_FILE).is_file():
            known = ", ".join(v.version for v in self.list()) or "none"
            raise RegistryError(f"no model version {version!r} in {self.dir} (known: {known})")
        return ModelVersion(version, d / MODEL_FILE, _read_card(d), version == self.current())

    def list(self) -> list[ModelVersion]:
        """Every registered version, the oldest first (by the time its card was written)."""
        if not self.dir.is_dir():
            return []
        current = self.current()
        found = [ModelVersion(d.name, d / MODEL_FILE, _read_card(d), d.name == current)
                 for d in self.dir.iterdir() if d.is_dir() and (d / MODEL_FILE).is_file()]
        return sorted(found, key=lambda v: (str(v.card.get("registered_at", "")), v.version))

    # -- writing -----------------------------------------------------------------------------

    def add(self, model_file: Path, version: str, card: dict) -> ModelVersion:
        """Copy a trained model in as `version` with its card. The same version added again (the
        training is reproducible: the same data gives the same version) keeps the first file and
        takes the newer card."""
        d = self._version_dir(version)
        d.mkdir(parents=True, exist_ok=True)
        if not (d / MODEL_FILE).is_file():
            tmp = d / f".{MODEL_FILE}.tmp"
            shutil.copyfile(model_file, tmp)
            os.replace(tmp, d / MODEL_FILE)
        card = {"version": version, "registered_at": datetime.now(timezone.utc).isoformat(), **card}
        _write_atomic(d / CARD_FILE, json.dumps(card, ensure_ascii=False, indent=2, default=str))
        return self.get(version)

    def promote(self, version: str, expected_current: str | None | type = ...) -> str | None:
        """Make `version` current; returns the version it replaced (None: the bundled model).
        With `expected_current`, refuses (RegistryChanged) when the current model is no longer
        that one: a candidate judged against one model is never promoted over another."""
        self.get(version)
        with self._locked():
            state = self._state()
            before = state.get("current")
            if expected_current is not ... and before != expected_current:
                raise RegistryChanged(
                    f"the promoted model changed from {expected_current or BUNDLED} to {before or BUNDLED} "
                    f"while {version} was being judged against it; not promoted")
            if before == version:
                return before
            state["stack"] = [*state["stack"], version]
            state["current"] = version
            self._save(state)
            return before

    def rollback(self) -> tuple[str, str | None]:
        """Drop the current version; the one promoted before it (None: bundled) is current again."""
        with self._locked():
            state = self._state()
            if not state["stack"]:
                raise RegistryError("nothing to roll back: the bundled model is current and no model was promoted")
            dropped = state["stack"][-1]
            stack = state["stack"][:-1]
            restored = stack[-1] if stack else None
            if restored is not None and not self.model_path(restored).is_file():
                raise RegistryError(f"cannot roll back to {restored}: its file {self.model_path(restored)} is gone")
            self._save({"current": restored, "stack": stack})
            return dropped, restored

    def _save(self, state: dict) -> None:
        _write_atomic(self._file, json.dumps(state, ensure_ascii=False, indent=2))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "registry.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextmanager
    def adapt_lock(self, wait: bool = False) -> Iterator[None]:
        """The one `patrol adapt` at a time: without `wait`, a second one is refused (AdaptBusy)
        naming the process that holds the lock; with it, it waits its turn."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / "adapt.lock"
        with open(path, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                raise AdaptBusy(f"another patrol adapt is running ({holder}; lock {path}); "
                                "wait for it, or pass --wait to queue behind it") from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} since {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC")
            fh.flush()
            try:
                yield
            finally:
                fh.seek(0)
                fh.truncate()
                fcntl.flock(fh, fcntl.LOCK_UN)


def _read_card(d: Path) -> dict:
    try:
        return json.loads((d / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
