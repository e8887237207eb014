"""The Analyzer: normalise → lexicons + detectors → rule scores (+ model) → Analysis.

How the rules score each category (noisy-OR of term weights, weak terms, contact and trade
signals, detectors, counter-speech factors, shared terms) is `rule_scoring`'s docstring. A category
is labelled when its final score reaches its threshold (0.5 by default).

`primary` is the best-supported label (`choose_primary`: the highest score, severity breaking
near-ties); `labels` lists every label, most severe first. Which label an ALERT leads with is the
alert rules' business (patrol/alerts.py picks the most severe matched label, in the severity
order of nlp/categories.py): the analysis says what the post most likely is, the alert says what to worry about first.

The jobs live in their own modules: `rule_scoring` (the recipe, `score_rules`),
`score_combination` (`combine_scores`, `combine_batch`, `choose_primary`); this one runs the
pipeline, builds the evidence and swaps lexicons. Their names are importable from here too.

A model plugs in through the constructor: any object with `version: str` and
`predict(list[ModelInput]) -> list[dict[str, float]]` (and optionally `explain(...)`). How the
two are combined lives in `combine_scores`, the one place to tune it (`combine_batch` does the
same arithmetic on arrays for speed; a test holds the two equal).
"""
from __future__ import annotations

import dataclasses
import logging
import operator
import threading
from dataclasses import dataclass
from itertools import compress
from pathlib import Path
from typing import Any, NamedTuple, Protocol, Sequence

from nlp.analysis import Analysis, Evidence, TrailStep
from nlp.categories import HARM_CATEGORIES, NONE, PORN_SEXUAL
from nlp.detectors import Detection, detect
from nlp.lexicon import Lexicon, LexiconError, Match
from nlp.normalise import Normalised, normalise
from nlp.rule_scoring import (CONTACT_BOOSTED, CONTACT_CAP, CONTACT_DETECTIONS, EXPLAINED_AWAY_FACTOR,  # noqa: F401
                              PII_DETECTIONS, PII_NEEDS_COMPANY, TRADE_BOOSTED, TRADE_CAP, WEAK_ONLY_FACTOR, RuleResult,
                              _attribute_shared, _distinct, _noisy_or, _nothing_found, _pii_detections, _score_rules,
                              score_rules)
from nlp.score_combination import (DEFAULT_THRESHOLD, PRIMARY_TIE_MARGIN, _combine_one, _py_max, _py_min,  # noqa: F401
                                   _round4, choose_primary, combine_batch, combine_scores)

log = logging.getLogger(__name__)

MAX_CHARS = 20_000
MODEL_BATCH = 256
# The alert rules (patrol/data/rules.yaml, `minor.marker`) escalate a porn_sexual alert whose
# evidence carries a term "minor" or "minor:<word>"
MINOR_MARKER = "minor"
MINOR_CATEGORIES = frozenset({PORN_SEXUAL})


@dataclass(frozen=True)
class ModelInput:
    """What the Analyzer hands the model for one text, so the model need not redo the rule work.

    text: the analysed (possibly truncated) original; normalised: the normaliser's output;
    lexicon: the `nlp.lexicon.Match` (hits and exceptions); detections: `nlp.detectors.Detection`s
    in normalised offsets.
    """

    text: str
    normalised: str
    lexicon: Match
    detections: tuple[Detection, ...] = ()


class Model(Protocol):
    version: str

    def predict(self, batch: list[ModelInput]) -> list[dict[str, float]]: ...


def _files_signature(directory: Path | None) -> tuple:
    """What changes when anyone edits the lexicon files: names, sizes and modification times."""
    if directory is None or not Path(directory).is_dir():
        return ()
    return tuple(sorted((p.name, st.st_size, st.st_mtime_ns)
                        for p in Path(directory).glob("*.txt") for st in [p.stat()]))


class Analyzer:
    def __init__(self, lexicon: Lexicon, model: Model | None = None, thresholds: dict[str, float] | None = None,
                 max_chars: int = MAX_CHARS):
        self._lexicon = lexicon
        self.model = model
        self.thresholds = {c: DEFAULT_THRESHOLD for c in HARM_CATEGORIES}
        if thresholds:
            unknown = set(thresholds) - set(HARM_CATEGORIES)
            if unknown:
                raise ValueError(f"thresholds for unknown categories: {sorted(unknown)}")
            self.thresholds.update(thresholds)
        self.max_chars = max_chars
        self._evidence_has_trail = "trail" in {f.name for f in dataclasses.fields(Evidence)}
        self._reload_lock = threading.Lock()
        self._files_seen = _files_signature(lexicon.directory)

    @classmethod
    def default(cls, lexicon_dir: str | Path | None = None, model_path: str | Path | None = None,
                use_encoder: bool = True) -> "Analyzer":
        """The bundled lexicons (or `lexicon_dir`) and the model at `model_path`, or the bundled
        model when one ships; rules only otherwise. `use_encoder=False` scores a model that has an
        encoder stage with its n-gram side alone (its version then ends in "+fast-only")."""
        lexicon = Lexicon.load(lexicon_dir)
        return cls(lexicon, model=_load_model(model_path, use_encoder))

    @property
    def lexicon(self) -> Lexicon:
        return self._lexicon

    @property
    def model_version(self) -> str:
        return self._version_for(self._lexicon)

    def _version_for(self, lexicon: Lexicon) -> str:
        rules = f"rules-{lexicon.version}"
        return f"{self.model.version}+{rules}" if self.model is not None else rules

    def reload_lexicons(self, allow_problems: bool = False) -> None:
        """Re-read the lexicon files without a restart.

        The new lexicons are built aside and swapped in with one reference assignment, so an
        analysis running meanwhile finishes on the old ones and the next starts on the new ones:
        none sees half of each. Files that cannot be read, or that have any problem (a broken
        line would otherwise silently drop a term), raise `LexiconError` / `FileNotFoundError`
        naming every problem, and the lexicons in use stay. `allow_problems=True` takes the
        files with their broken lines skipped, as a start-up load does.
        """
        with self._reload_lock:
            signature = _files_signature(self._lexicon.directory)
            new = self._lexicon.reload()
            if new.problems and not allow_problems:
                raise LexiconError(new.directory, new.problems)
            self._lexicon = new
            self._files_seen = signature

    def reload_lexicons_if_changed(self) -> bool:
        """Reload when a lexicon file was added, removed or written since the last load; the
        long-running `patrol crawl --loop` calls this before each pass. Returns True when new
        lexicons went live. Broken files raise as in `reload_lexicons` and are not retried until
        they change again, so one typo is reported once per edit, not once per pass."""
        signature = _files_signature(self._lexicon.directory)
        if signature == self._files_seen:
            return False
        try:
            self.reload_lexicons()
        except (LexiconError, FileNotFoundError):
            self._files_seen = signature
            raise
        return True

    # ---------------------------------------------------------------- analysis

    def analyse(self, text: str) -> Analysis:
        return self.analyse_batch([text])[0]

    def analyse_batch(self, texts: Sequence[str]) -> list[Analysis]:
        """One Analysis per text, in order. A text that breaks the rules side gets an empty
        analysis with the error in its trail; a model failure falls back to rules for that batch."""
        lexicon = self._lexicon  # one version for the whole batch, even if reloaded meanwhile
        version = self._version_for(lexicon)
        prepared: list[_Prepared | _Failed] = []
        for text in texts:
            try:
                prepared.append(self._prepare(text, lexicon))
            except Exception as exc:  # noqa: BLE001 - one bad text must never fail the batch
                log.exception("analysis failed for one text; returning an empty analysis")
                prepared.append(_Failed(repr(exc)[:200]))
        ok = [p for p in prepared if isinstance(p, _Prepared)]
        model_scores = self._predict(ok)
        final = combine_batch([p.rules for p in ok], [probs for probs, _ in model_scores],
                              getattr(self.model, "thresholds", None) or {}, self.thresholds)
        model_scores, final = self._platform(ok, model_scores, final)
        limits = [self.thresholds[c] for c in HARM_CATEGORIES]
        results = []
        it = iter(zip(model_scores, final))
        for p in prepared:
            if isinstance(p, _Failed):
                results.append(_failed_analysis(p.reason, version))
                continue
            (_, explanation), scores = next(it)
            results.append(self._finish(p, scores, explanation, version, limits))
        return results

    def _prepare(self, text: Any, lexicon: Lexicon) -> "_Prepared":
        text = _as_text(text)
        cut = None
        if len(text) > self.max_chars:
            cut = TrailStep("truncated", self.max_chars, len(text), "", "")
            text = text[: self.max_chars]
        norm = normalise(text, lexicon.fold_terms)
        match = lexicon.scan(norm.text)
        dets = tuple(detect(norm.text))
        rules = score_rules(match, dets)
        return _Prepared(ModelInput(text, norm.text, match, dets), norm, rules, cut)

    def _predict(self, items: list["_Prepared"]) -> list[tuple[dict[str, float] | None, dict]]:
        """Model probabilities and explanations per item; (None, {}) when there is no model or it failed."""
        if self.model is None or not items:
            return [(None, {})] * len(items)
        out: list[tuple[dict[str, float] | None, dict]] = []
        for i in range(0, len(items), MODEL_BATCH):
            chunk = [p.input for p in items[i:i + MODEL_BATCH]]
            try:
                probs = self.model.predict(chunk)
            except Exception:  # noqa: BLE001 - isolate the item that breaks the model
                log.exception("model failed on a batch; retrying item by item")
                probs = []
                for one in chunk:
                    try:
                        probs.append(self.model.predict([one])[0])
                    except Exception:  # noqa: BLE001
                        log.exception("model failed on one text; rules only for it")
                        probs.append(None)
            out.extend((p, {}) for p in probs)
        return self._explain(items, out)

    def _platform(self, items: list["_Prepared"], model_scores, final):
        """An adapted model's platform layer decides the categories its officers labelled
        (nlp.platform_layer); its n-grams explain the category it chose."""
        layer = getattr(self.model, "platform", None)
        if layer is None or not items:
            return model_scores, final
        try:
            final, why = layer.rescore([p.input.normalised for p in items], final)
        except Exception:  # noqa: BLE001 - a broken layer must not stop the shipped model
            log.exception("platform layer failed on a batch; the base model's scores stand")
            return model_scores, final
        merged = []
        for (probs, explanation), extra in zip(model_scores, why):
            merged.append((probs, {**explanation, **extra} if extra else explanation))
        return merged, final

    def _explain(self, items, out):
        explain = getattr(self.model, "explain", None)
        if explain is None:
            return out
        thresholds = getattr(self.model, "thresholds", None) or {}
        wanted = []
        keys: tuple = ()
        limits: list[float] = []
        for i, (probs, _) in enumerate(out):
            if not probs:
                continue
            # the same test as any(p >= thresholds[c] for c, p in probs.items()), with the
            # thresholds looked up once per batch rather than once per post and category
            if tuple(probs) != keys:
                keys = tuple(probs)
                limits = [thresholds.get(c, DEFAULT_THRESHOLD) for c in keys]
            if any(map(operator.ge, probs.values(), limits)):
                wanted.append(i)
        if not wanted:
            return out
        try:
            expl = explain([items[i].input for i in wanted])
        except Exception:  # noqa: BLE001 - an explanation is a nicety, never a failure
            log.exception("model explain failed")
            return out
        for i, e in zip(wanted, expl):
            out[i] = (out[i][0], e or {})
        return out

    def _finish(self, p: "_Prepared", scores: dict[str, float], explanation: dict, version: str,
                limits: list[float]) -> Analysis:
        # scores[c] >= thresholds[c] for each category; `scores` is in HARM_CATEGORIES order
        labels = tuple(compress(HARM_CATEGORIES, map(operator.ge, scores.values(), limits)))
        if not labels and not p.cut:
            # most posts: no label, so no primary, no evidence and no features to gather
            return Analysis(primary=NONE, labels=labels, scores=scores, evidence=(), trail=p.norm.trail,
                            normalised=p.norm.text, model_version=version, features={})
        primary = choose_primary(labels, scores)
        evidence = self._evidence(p, labels)
        trail = p.norm.trail + ((p.cut,) if p.cut else ())
        features = {c: tuple((str(n), float(w)) for n, w in explanation.get(c, ())) for c in labels if explanation.get(c)}
        return Analysis(primary=primary, labels=labels, scores=scores, evidence=evidence, trail=trail,
                        normalised=p.norm.text, model_version=version, features=features)

    def _evidence(self, p: "_Prepared", labels: tuple[str, ...]) -> tuple[Evidence, ...]:
        out: list[Evidence] = []
        original = p.input.text
        seen = set()
        for cat in labels:
            for h in p.rules.counted.get(cat, ()):
                out.append(self._span(p, cat, "lexicon", h.term, h.start, h.end, h.weight, original, seen))
            for d in p.rules.detections.get(cat, ()):
                out.append(self._span(p, cat, "detector", d.kind, d.start, d.end, 1.0, original, seen))
            if cat in MINOR_CATEGORIES:
                # a minor named anywhere in a post already labelled for sexual content, even by a
                # weak word (萝莉) that did not count towards the score
                for h in p.input.lexicon.hits:
                    if h.minor and h.category == cat:
                        out.append(self._span(p, cat, "lexicon", f"{MINOR_MARKER}:{h.term}", h.start, h.end,
                                              h.weight, original, seen))
        if p.cut:
            out.append(Evidence(category=NONE, source="truncated", term=f"only the first {self.max_chars} characters were analysed",
                                start=p.cut.start, end=p.cut.start, text="", weight=0.0))
        return tuple(e for e in out if e is not None)

    def _span(self, p, cat, source, term, start, end, weight, original, seen):
        key = (cat, source, term, start, end)
        if key in seen:
            return None
        seen.add(key)
        os_, oe = p.norm.to_original(start, end)
        kwargs = dict(category=cat, source=source, term=term, start=os_, end=oe, text=original[os_:oe], weight=round(weight, 4))
        if self._evidence_has_trail:
            kwargs["trail"] = p.norm.steps_within(os_, oe)
        return Evidence(**kwargs)


class _Prepared(NamedTuple):
    # a tuple, not a frozen dataclass: built once per post, and a frozen dataclass pays a
    # guarded attribute store per field
    input: ModelInput
    norm: Normalised
    rules: RuleResult
    cut: TrailStep | None


class _Failed(NamedTuple):
    reason: str


def _failed_analysis(reason: str, version: str) -> Analysis:
    return Analysis(primary=NONE, labels=(), scores={c: 0.0 for c in HARM_CATEGORIES},
                    trail=(TrailStep("error", 0, 0, "", reason),), model_version=version)


def _as_text(text: Any) -> str:
    """Accept what crawlers hand over: str, bytes (UTF-8, undecodable bytes replaced), None."""
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        text = str(text)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # lone surrogates cannot cross into the Rust matcher; one '?' each keeps offsets
            text = "".join("?" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def _load_model(model_path: str | Path | None, use_encoder: bool = True):
    try:
        from nlp import model as model_mod
    except ImportError:
        if model_path is not None:
            raise
        return None
    if model_path is not None:
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        return model_mod.HarmModel.load(path, use_encoder=use_encoder)
    try:
        return model_mod.load_bundled(use_encoder)
    except model_mod.encoder.EncoderUnavailable:
        # not a broken file but a missing package: running on rules only would be a much weaker
        # classifier that looks like the usual one, so say what to install instead
        raise
    except Exception:  # noqa: BLE001 - a broken bundled model must not stop the rules
        log.exception("bundled model could not be loaded; running on rules only")
        return None
