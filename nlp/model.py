"""The harm model: one-vs-rest linear scorers over hashed features, Platt-calibrated, with a
threshold per category chosen on dev data.

The saved artifact holds only numbers, strings and plain containers (no estimator objects), so
loading it with skops needs no custom type to be trusted: `load` lists the trusted types
explicitly and refuses a file that asks for anything else. The learned state is a dense weight
matrix stored pre-transposed (features x labels) because the Analyzer scores whole batches as one
sparse-times-dense product; per-post prediction in a loop would copy it every call.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections import deque
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np

from nlp import encoder
from nlp.encoder_stage import EncoderHead, ModelLoadError, encoder_text  # noqa: F401 - importable from here too
from nlp.features import DENSE_NAMES, FeatureConfig, FeatureExtractor, Prepared, RuleSide, as_prepared
from nlp.platform_layer import PlatformLayer

# predict() batches explain() can reuse without featurising again; the Analyzer predicts a batch
# in chunks of 256 and then explains the flagged items of all of them
RECENT_BATCHES = 8

BUNDLED_MODEL_PATH = Path(__file__).parent / "data" / "model" / "patrol-model.skops"
FORMAT = "patrol-harm-model/1"

# What a model file may contain. Anything else (an estimator, a function, a custom class) makes
# `load` refuse the file: a model file is data and must never be a way to run code.
TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int",
    "builtins.float", "builtins.bool", "builtins.NoneType",
    "numpy.ndarray",
)


class HarmModel:
    """Scores texts for each harm category. `predict` returns calibrated probabilities;
    `labels_for` applies the per-category thresholds."""

    def __init__(
        self,
        config: FeatureConfig,
        labels: Sequence[str],
        weights: np.ndarray,  # (n_features, n_labels)
        intercepts: np.ndarray,  # (n_labels,)
        platt: np.ndarray,  # (n_labels, 2): p = sigmoid(a * score + b)
        thresholds: np.ndarray,  # (n_labels,)
        version: str,
        meta: dict | None = None,
        rules: RuleSide | None = None,
        encoder_head: EncoderHead | None = None,
        use_encoder: bool = True,
        platform: "PlatformLayer | None" = None,
    ):
        self.config = config
        self.labels = tuple(labels)
        self.weights = np.asarray(weights, dtype=np.float32)
        self.intercepts = np.asarray(intercepts, dtype=np.float32)
        self.platt = np.asarray(platt, dtype=np.float64)
        self.thresholds_ = np.asarray(thresholds, dtype=np.float64)
        self._fast_thresholds = self.thresholds_  # the n-gram side's own, kept in the file
        self.version = version
        self.meta = dict(meta or {})
        self.extractor = FeatureExtractor(config)
        self.rules = rules or RuleSide()
        self._recent: deque = deque(maxlen=RECENT_BATCHES)
        self._thresholds_view = None
        expected = (self.extractor.n_features, len(self.labels))
        if self.weights.shape != expected:
            raise ModelLoadError(f"weights have shape {self.weights.shape}, features need {expected}")
        # The encoder stage, when the model was trained with one: its probabilities and thresholds
        # replace the n-gram side's own. Switched off (`use_encoder=False`), the model scores with
        # its n-gram side alone, calibrated and thresholded on its own, and says so in `version`.
        self.encoder_head = encoder_head
        if encoder_head is not None:
            encoder_head.check(len(self.labels))
            if use_encoder:
                encoder.available_or_raise()
                self.thresholds_ = np.asarray(encoder_head.thresholds, dtype=np.float64)
            else:
                self.encoder_head = None
                self.version = f"{version}+fast-only"
        # The platform layer of an adapted model (`patrol adapt`, nlp.platform_layer): applied by
        # the Analyzer to the final scores. One fitted with the encoder cannot run without it; with
        # the encoder switched off the model scores as its base did, and says so in `version`.
        self.platform = platform
        if platform is not None and platform.uses_encoder:
            if use_encoder:
                encoder.available_or_raise()
            else:
                self.platform = None
                if not self.version.endswith("+fast-only"):
                    self.version = f"{self.version}+fast-only"

    @property
    def uses_encoder(self) -> bool:
        """True when predictions run the encoder stage. Its engine keeps an OpenMP thread pool
        over every core, which a forked child cannot use (it hangs): run such a model in one
        process; it is parallel inside."""
        return self.encoder_head is not None or (self.platform is not None and self.platform.uses_encoder)

    @property
    def thresholds(self) -> Mapping[str, float]:
        """Category -> threshold, read-only. The Analyzer asks once per post, so the mapping is
        built once per `thresholds_` array rather than on every call."""
        cached = self._thresholds_view
        if cached is None or cached[0] is not self.thresholds_:
            cached = (self.thresholds_, MappingProxyType({c: float(t) for c, t in zip(self.labels, self.thresholds_)}))
            self._thresholds_view = cached
        return cached[1]

    # --- scoring ----------------------------------------------------------------------------

    def _score(self, prepared: list[Prepared]):
        X, batch = self.extractor.transform_batch(prepared)
        S = np.asarray(X @ self.weights, dtype=np.float64) + self.intercepts
        if self.encoder_head is not None:
            probs = self.encoder_head.combine(S, encoder.embed([encoder_text(p) for p in prepared]))
        else:
            probs = self.calibrate(S)
        # explain() usually follows predict() on some of the same items (the Analyzer predicts in
        # chunks, then explains what was flagged in any of them): keep the last few batches so
        # nothing is featurised or cut into words twice.
        self._recent.append(({(p.raw, p.normalised): i for i, p in enumerate(prepared)}, X, probs, batch))
        return X, probs

    def decision_function(self, batch: Sequence[Any]) -> np.ndarray:
        prepared = as_prepared(list(batch), self.rules)
        if not prepared:
            return np.zeros((0, len(self.labels)))
        X = self.extractor.transform(prepared)
        return np.asarray(X @ self.weights, dtype=np.float64) + self.intercepts

    def calibrate(self, scores: np.ndarray) -> np.ndarray:
        z = scores * self.platt[:, 0] + self.platt[:, 1]
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def predict_proba(self, batch: Sequence[Any]) -> np.ndarray:
        prepared = as_prepared(list(batch), self.rules)
        if not prepared:
            return np.zeros((0, len(self.labels)))
        return self._score(prepared)[1]

    def predict(self, batch: Sequence[Any]) -> list[dict[str, float]]:
        """Per item, category -> calibrated probability. Items are raw texts, `Prepared`, or any
        object with `.normalised` (so the Analyzer need not normalise twice)."""
        probs = self.predict_proba(batch)
        return [dict(zip(self.labels, row)) for row in np.round(probs, 6).tolist()]

    def labels_for(self, probs: np.ndarray) -> list[tuple[str, ...]]:
        hit = probs >= self.thresholds_
        return [tuple(c for c, h in zip(self.labels, row) if h) for row in hit]

    def explain(self, batch: Sequence[Any], top: int = 5, labels: Sequence[str] | None = None
                ) -> list[dict[str, tuple[tuple[str, float], ...]]]:
        """Per item, for each label it reached (or each of `labels`), the `top` features that
        pushed the score up most (weight x value)."""
        prepared = as_prepared(list(batch), self.rules)
        if not prepared:
            return []
        found = self._find_recent(prepared)
        missing = [i for i, f in enumerate(found) if f is None]
        if missing:
            self._score([prepared[i] for i in missing])
            again = self._find_recent([prepared[i] for i in missing])
            for i, f in zip(missing, again):
                found[i] = f
        asked = None if labels is None else [self.labels.index(c) for c in labels if c in self.labels]
        tops_per_item = self._top_contributions(found, asked, top)
        to_name = [i for i, tops in enumerate(tops_per_item) if tops]
        named = self.extractor.names_batch([(found[i][0][3], found[i][1], {c for t in tops_per_item[i].values() for c, _ in t})
                                            for i in to_name])
        names_per_item: list[dict] = [{} for _ in prepared]
        for i, names in zip(to_name, named):
            names_per_item[i] = names
        return [{self.labels[j]: tuple((names.get(c, f"hash:{c}"), round(v, 4)) for c, v in t) for j, t in tops.items()}
                for tops, names in zip(tops_per_item, names_per_item)]

    def _top_contributions(self, found: list, asked: list[int] | None, top: int) -> list[dict]:
        """Per item, label index -> up to `top` (column, weight x value) with a positive
        contribution, largest first.

        What `np.argsort(-contrib)[:top]` per item and label gives, computed for all of them with
        one sort of (group, contribution) keys over the positive contributions. Where two of
        them tie inside the top (or at its edge) the order of that unstable argsort is what
        counts, so such a group is done the slow way; ties among zeros (features the model never
        weighted) change nothing, as non-positive contributions are never shown.
        """
        groups_item, groups_label, sizes, entry_col, entry_val = [], [], [], [], []
        tops_per_item: list[dict] = []
        for i, ((_, X, probs, _fb), row) in enumerate(found):
            # by default only the labels this item reached: nobody reads why a label was not given
            wanted = asked if asked is not None else np.flatnonzero(probs[row] >= self.thresholds_).tolist()
            lo, hi = X.indptr[row], X.indptr[row + 1]
            tops_per_item.append({})
            if not wanted or hi == lo:
                continue
            for j in wanted:
                groups_item.append(i)
                groups_label.append(j)
                sizes.append(hi - lo)
                entry_col.append(X.indices[lo:hi])
                entry_val.append(X.data[lo:hi])
        if not groups_item:
            return tops_per_item
        n_groups = len(groups_item)
        group = np.repeat(np.arange(n_groups), sizes)
        col = np.concatenate(entry_col)
        # the same float32 products as vals * weights[cols, j], one gather for the whole batch
        val = np.concatenate(entry_val) * self.weights[col, np.repeat(groups_label, sizes)]
        positive = np.flatnonzero(val > 0)
        group, col, val = group[positive], col[positive], val[positive]
        # by group, then largest contribution first, as one int64 key: a positive float32's bit
        # pattern orders like its value. Equal keys are ties, and tied groups are redone below,
        # so an unstable sort is fine
        key = (group.astype(np.int64) << 32) | (0x7FFFFFFF - val.view(np.int32)).astype(np.int64)
        order = np.argsort(key)
        group, col, val = group[order], col[order], val[order]
        starts = np.searchsorted(group, np.arange(n_groups + 1))
        rank = np.arange(len(group)) - starts[group]
        same_next = np.zeros(len(group), dtype=bool)
        same_next[:-1] = (group[1:] == group[:-1]) & (val[1:] == val[:-1])
        tied = np.zeros(n_groups, dtype=bool)
        tied[group[same_next & (rank < top)]] = True
        take = rank < top
        per_group: list[list] = [[] for _ in groups_item]
        for g, cv in zip(group[take].tolist(), zip(col[take].tolist(), val[take].tolist())):
            per_group[g].append(cv)
        redo = set(np.flatnonzero(tied).tolist())
        for g, (i, j) in enumerate(zip(groups_item, groups_label)):
            if g in redo:
                per_group[g] = self._top_one(found[i], j, top)
            tops_per_item[i][j] = per_group[g]
        return tops_per_item

    def _top_one(self, item, j: int, top: int) -> list:
        (_, X, _probs, _fb), row = item
        lo, hi = X.indptr[row], X.indptr[row + 1]
        cols, vals = X.indices[lo:hi], X.data[lo:hi]
        contrib = vals * self.weights[cols, j]
        order = np.argsort(-contrib)[:top]
        return [(int(cols[o]), float(contrib[o])) for o in order if contrib[o] > 0]

    def _find_recent(self, prepared: list[Prepared]) -> list:
        """For each item, (cached batch, row) from the recent `_score` calls (newest first), or None."""
        recent = list(self._recent)[::-1]  # a snapshot: another thread may be appending
        out = []
        for p in prepared:
            key = (p.raw, p.normalised)
            for entry in recent:
                row = entry[0].get(key)
                if row is not None:
                    out.append((entry, row))
                    break
            else:
                out.append(None)
        return out

    # --- persistence ------------------------------------------------------------------------

    def to_state(self) -> dict:
        state = {
            "format": FORMAT,
            "version": self.version,
            "config": self.config.to_dict(),
            "labels": list(self.labels),
            "dense_names": list(DENSE_NAMES),
            # float16 halves the file; the scores move by < 1e-3, far below any threshold margin.
            "weights": self.weights.astype(np.float16),
            "intercepts": self.intercepts.astype(np.float32),
            "platt": self.platt.astype(np.float64),
            # the n-gram side's own; an encoder stage keeps its thresholds in its own state
            "thresholds": np.asarray(self._fast_thresholds, dtype=np.float64),
            "meta": self.meta,
        }
        if self.encoder_head is not None:
            state["encoder"] = self.encoder_head.to_state()
        if self.platform is not None:
            state["platform"] = self.platform.to_state()
        return state

    def save(self, path: str | Path) -> Path:
        """Write the model as a skops file, byte for byte the same for the same model (see
        `_canonical_zip`), so retraining with the same data and seed changes nothing in git."""
        import skops.io as sio

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        raw = io.BytesIO()
        sio.dump(self.to_state(), raw, compression=zipfile.ZIP_DEFLATED)
        tmp.write_bytes(_canonical_zip(raw.getvalue()))
        tmp.replace(path)
        return path

    @classmethod
    def from_state(cls, state: dict, source: str = "<state>", use_encoder: bool = True) -> "HarmModel":
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ModelLoadError(f"{source}: not a Patrol harm model (format {state.get('format') if isinstance(state, dict) else type(state).__name__!r})")
        if list(state["dense_names"]) != list(DENSE_NAMES):
            raise ModelLoadError(f"{source}: trained with other dense features than this code has; retrain with `patrol train`")
        try:
            config = FeatureConfig(**state["config"])
        except TypeError as exc:
            raise ModelLoadError(f"{source}: bad feature config: {exc}") from exc
        head = EncoderHead.from_state(state["encoder"], source) if state.get("encoder") is not None else None
        platform = PlatformLayer.from_state(state["platform"], source) if state.get("platform") is not None else None
        return cls(config, state["labels"], state["weights"].astype(np.float32), state["intercepts"],
                   state["platt"], state["thresholds"], state["version"], state.get("meta", {}),
                   encoder_head=head, use_encoder=use_encoder, platform=platform)

    @classmethod
    def load(cls, path: str | Path, use_encoder: bool = True) -> "HarmModel":
        path = Path(path)
        if not path.is_file():
            raise ModelLoadError(f"model file not found: {path}")
        try:
            found = types_in(path)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise ModelLoadError(f"{path}: not a readable skops model file ({exc})") from exc
        refused = sorted(found - set(TRUSTED_TYPES))
        if refused:
            raise ModelLoadError(f"{path}: refusing to load untrusted types {refused}")
        try:
            state = read_plain_skops(path)
        except _NotPlain:
            import skops.io as sio

            state = sio.load(path, trusted=sorted(found))
        return cls.from_state(state, str(path), use_encoder=use_encoder)


_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def _canonical_zip(data: bytes) -> bytes:
    """The same skops archive with nothing that depends on when or in which process it was
    written. skops names each array file and tags each node (`__id__`, which it uses to rebuild
    shared references) after Python's id() of the object, stamps every entry with the current
    time, and writes the entries in no fixed order. Here ids and files are renumbered 0, 1, ...
    in the order a fixed walk of the schema meets them (the same id always gets the same
    number, so shared references stay shared), and the entries are written sorted, dated
    1980-01-01. Key order is kept: a dict node's `key_types` list follows it."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        schema = json.loads(z.read("schema.json"))
        ids: dict[int, int] = {}
        files: dict[str, str] = {}
        stack = [schema]
        while stack:  # depth first, children in schema order
            node = stack.pop()
            if isinstance(node, dict):
                if isinstance(node.get("__id__"), int):
                    node["__id__"] = ids.setdefault(node["__id__"], len(ids))
                if isinstance(node.get("file"), str):
                    node["file"] = files.setdefault(node["file"], f"{len(files)}.npy")
                stack.extend(reversed(list(node.values())))
            elif isinstance(node, list):
                stack.extend(reversed(node))
        entries = {files.get(name, name): z.read(name) for name in z.namelist() if name != "schema.json"}
    entries["schema.json"] = json.dumps(schema, separators=(",", ":")).encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, entries[name])
    return out.getvalue()


def types_in(path: Path) -> set[str]:
    """Every `module.Class` a skops file asks to build, read from its schema without loading it.

    skops trusts scikit-learn estimators by default; a Patrol model file holds plain data only,
    so this stricter list is checked first.
    """
    with zipfile.ZipFile(path) as z:
        schema = json.loads(z.read("schema.json"))
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


class _NotPlain(ValueError):
    """A node the plain reader does not handle; skops itself reads the file then."""


def read_plain_skops(path: Path) -> Any:
    """Read a skops file made only of dicts, lists, tuples, JSON scalars and numeric arrays.

    The same values `skops.io.load` returns for such a file, without importing skops, whose
    import pulls in scikit-learn and ~100 MB with it: every classifying process (and each of
    `patrol classify`'s workers) would pay that for four arrays. Arrays are read with
    `allow_pickle=False`; any other node raises `_NotPlain`, and `load` hands the file to skops.
    """
    with zipfile.ZipFile(path) as z:
        schema = json.loads(z.read("schema.json"))
        if schema.get("protocol") != 2:
            raise _NotPlain(f"skops protocol {schema.get('protocol')!r}")

        def build(node: Any) -> Any:
            if not isinstance(node, dict):
                raise _NotPlain(f"unexpected schema entry {type(node).__name__}")
            loader = node.get("__loader__")
            if loader == "JsonNode":
                return json.loads(node["content"])
            if loader == "ListNode":
                return [build(n) for n in node["content"]]
            if loader == "TupleNode":
                return tuple(build(n) for n in node["content"])
            if loader == "DictNode" and (node.get("__module__"), node.get("__class__")) == ("builtins", "dict"):
                kinds = build_key_types(node["key_types"])
                if len(kinds) != len(node["content"]):
                    raise _NotPlain("dict key types do not match its keys")
                return {kind(k): build(v) for kind, (k, v) in zip(kinds, node["content"].items())}
            if (loader == "NdArrayNode" and node.get("type") == "numpy"
                    and (node.get("__module__"), node.get("__class__")) == ("numpy", "ndarray")):
                with z.open(node["file"]) as fh:
                    return np.load(io.BytesIO(fh.read()), allow_pickle=False)
            raise _NotPlain(f"node {loader!r} of {node.get('__module__')}.{node.get('__class__')}")

        def build_key_types(node: Any) -> list:
            if not isinstance(node, dict) or node.get("__loader__") != "ListNode":
                raise _NotPlain("dict key types are not a list")
            kinds = []
            for n in node["content"]:
                name = (n.get("__loader__"), n.get("__module__"), n.get("__class__"))
                if name == ("TypeNode", "builtins", "str"):
                    kinds.append(str)
                elif name == ("TypeNode", "builtins", "int"):
                    kinds.append(int)
                else:
                    raise _NotPlain(f"dict key type {name}")
            return kinds

        return build(schema)


def load_bundled(use_encoder: bool = True) -> HarmModel | None:
    """The model shipped in nlp/data/model/, or None when none ships."""
    return HarmModel.load(BUNDLED_MODEL_PATH, use_encoder) if BUNDLED_MODEL_PATH.is_file() else None


def model_version(data_digest: str, params: dict, arrays: Sequence[np.ndarray] = ()) -> str:
    """A name for what the model is: a hash of its training data and parameters and of the
    learned arrays themselves, so a change of training code that changes the model changes the
    name too. No date: the same model retrained another day keeps its name and its file."""
    h = hashlib.sha256((data_digest + repr(sorted(params.items()))).encode())
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return f"m-{h.hexdigest()[:12]}"
