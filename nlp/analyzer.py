"""The Analyzer: normalise → lexicons + detectors → rule scores (+ model) → Analysis.

Rule scoring, per category (see `score_rules`):
  * each distinct lexicon term contributes its weight; scores combine as a noisy-OR,
    1 - Π(1 - w), so two medium terms outweigh one and nothing exceeds 1;
  * `weak` terms (叶子, 按摩) count only next to a strong term of the same category or, for
    ad-like categories, next to a contact or trade signal;
  * contact hand-offs (加我, 私聊, a WeChat id, a QQ number, a link on a cheap domain) join the
    noisy-OR of the ad-like categories, trade words (出货, 面交) that of drugs and weapons —
    but only when the category already has a hit, since a contact alone is no harm;
  * detectors add to pii_leak (an ID number alone suffices; a phone number counts only next to
    doxxing words or another identifier, because ads carry phone numbers);
  * counter-speech and reporting (警惕…诈骗, 禁毒宣传, 笑死) multiply the score by the
    exception's factor (the strongest one found);
  * a term listed under several categories (稳赚不赔 is both an investment pitch and gambling
    talk) is attributed, see `_attribute_shared`: it counts for each sharing category that has a
    strong hit of its own, and when none has, for its heaviest listing only.
A category is labelled when its final score reaches its threshold (0.5 by default).

`primary` is the best-supported label (`choose_primary`: the highest score, severity breaking
near-ties); `labels` lists every label, most severe first. Which label an ALERT leads with is the
alert rules' business (patrol/alerts.py picks the most severe matched label, TAXONOMY.md): the
analysis says what the post most likely is, the alert says what to worry about first.

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
from typing import Any, Iterable, NamedTuple, Protocol, Sequence

import numpy as np

from nlp.analysis import Analysis, Evidence, TrailStep
from nlp.categories import (DRUGS, FRAUD, GAMBLING, HARM_CATEGORIES, ILLICIT_ADS, NONE, PII_LEAK, PORN_SEXUAL,
                            WEAPONS, most_severe)
from nlp.detectors import Detection, detect
from nlp.lexicon import Lexicon, LexiconError, LexiconHit, Match
from nlp.normalise import Normalised, normalise

log = logging.getLogger(__name__)

MAX_CHARS = 20_000
DEFAULT_THRESHOLD = 0.5
MODEL_BATCH = 256

CONTACT_BOOSTED = frozenset({GAMBLING, PORN_SEXUAL, ILLICIT_ADS, DRUGS, WEAPONS, FRAUD})
TRADE_BOOSTED = frozenset({DRUGS, WEAPONS})
# how much a contact detection says "this is an ad"; a bare phone number says little
CONTACT_DETECTIONS = {"wechat_id": 0.45, "qq_number": 0.45, "telegram": 0.5, "cheap_url": 0.4, "mobile": 0.2}
CONTACT_CAP = 0.6
TRADE_CAP = 0.5
# what each identifier adds to pii_leak; mobile only with doxxing words or another identifier
PII_DETECTIONS = {"cn_id_number": 0.8, "bank_card": 0.5, "address": 0.3, "plate_number": 0.25, "mobile": 0.25}
PII_NEEDS_COMPANY = frozenset({"mobile", "plate_number"})
WEAK_ONLY_FACTOR = 0.8
# Scores within this margin of the best label count as a tie, and the more severe label wins it:
# calibration noise must not demote self-harm below abuse, but a gambling ad scored 0.98 that
# also trips fraud at 0.80 is a gambling ad.
PRIMARY_TIE_MARGIN = 0.05
# A category whose only lexicon evidence was shared terms given to another category ("百家乐
# 稳赚不赔": fraud) keeps this share of its model score: the model read the same words.
EXPLAINED_AWAY_FACTOR = 0.5
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


@dataclass(frozen=True)
class RuleResult:
    scores: dict[str, float]
    factors: dict[str, float]  # category -> exception factor applied (1.0 = none)
    counted: dict[str, tuple[LexiconHit, ...]]  # the hits that made each score
    detections: dict[str, tuple[Detection, ...]]  # the detections that made each score


def _noisy_or(weights: Iterable[float]) -> float:
    p = 1.0
    for w in weights:
        p *= 1.0 - w
    return 1.0 - p


def _distinct(hits: Iterable[LexiconHit]) -> list[LexiconHit]:
    seen: dict[str, LexiconHit] = {}
    for h in hits:
        seen.setdefault(h.term, h)
    return list(seen.values())


def choose_primary(labels: Iterable[str], scores: dict[str, float], margin: float = PRIMARY_TIE_MARGIN) -> str:
    """The best-supported of `labels`: the highest score, and among labels within `margin` of
    it the most severe (HARM_CATEGORIES order); `none` without labels. pii_leak is the primary
    only when it is the only label.

    Not the alert's primary: an alert leads with its most severe matched label (TAXONOMY.md,
    patrol/alerts.py). Here the question is which category the post belongs to, and a gambling
    ad that also says 稳赚不赔 (an investment-fraud word) is a gambling ad.
    """
    labels = [c for c in labels if c in HARM_CATEGORIES]
    if not labels:
        return NONE
    if len(labels) > 1 and PII_LEAK in labels:
        # pii_leak says what a post exposes, not what it is: a gambling ad carrying a phone
        # number is a gambling ad (the alert still lists pii_leak among its labels)
        labels = [c for c in labels if c != PII_LEAK]
    best = max(scores.get(c, 0.0) for c in labels)
    return most_severe(c for c in labels if scores.get(c, 0.0) >= best - margin)


_HARM = frozenset(HARM_CATEGORIES)


def _attribute_shared(hits: Sequence[LexiconHit]) -> tuple[list[LexiconHit], frozenset[str]]:
    """Drop the readings of shared terms that the rest of the text does not support.

    A term listed in several category files (稳赚不赔 in fraud and gambling) yields one hit per
    listing on the same span. Each listing counts when its category has a strong hit of its own
    (a non-shared, non-weak term); when no sharing category has one, only the heaviest listing
    counts (ties: the most severe). So "百家乐 稳赚不赔" is gambling talk, "荐股 稳赚不赔" is a
    stock pitch, and "稳赚不赔 加V" alone stays with fraud.

    Returns the hits kept and the categories explained away: those whose every hit was a shared
    term given to another category. The model read the same words, so `score_rules` scales
    its side for them too (EXPLAINED_AWAY_FACTOR).
    """
    harm = _HARM
    spans: dict[tuple[str, int, int], list[LexiconHit]] = {}
    for h in hits:
        if h.category in harm:
            spans.setdefault((h.term, h.start, h.end), []).append(h)
    shared = {k: v for k, v in spans.items() if len({h.category for h in v}) > 1}
    if not shared:
        return list(hits), frozenset()
    shared_ids = {id(h) for v in shared.values() for h in v}
    own = {h.category for h in hits if h.category in harm and not h.weak and id(h) not in shared_ids}
    drop: set[int] = set()
    for listings in shared.values():
        supported = [h for h in listings if h.category in own]
        if not supported:
            supported = [min(listings, key=lambda h: (-h.weight, HARM_CATEGORIES.index(h.category)))]
        keep = {id(h) for h in supported}
        drop.update(id(h) for h in listings if id(h) not in keep)
    kept = [h for h in hits if id(h) not in drop]
    still = {h.category for h in kept}
    away = frozenset(h.category for h in hits if id(h) in drop and h.category not in still)
    return kept, away


def score_rules(match: Match, detections: Sequence[Detection]) -> RuleResult:
    """Per-category rule scores in [0, 1]; see the module docstring for the recipe."""
    if not match.hits and not detections:
        # Most posts: nothing found, so every score is 0 and only counter-speech sets factors.
        # The same result as the full recipe (tests/nlp/test_golden.py holds them
        # equal), without its walk over every category.
        return _nothing_found(match)
    return _score_rules(match, detections)


def _nothing_found(match: Match) -> RuleResult:
    if not match.exceptions:
        return RuleResult(dict.fromkeys(HARM_CATEGORIES, 0.0), dict.fromkeys(HARM_CATEGORIES, 1.0), {}, {})
    factors: dict[str, float] = {}
    for e in match.exceptions:
        for cat in (HARM_CATEGORIES if e.category == "*" else (e.category,)):
            factors[cat] = min(factors.get(cat, 1.0), e.factor)
    return RuleResult(dict.fromkeys(HARM_CATEGORIES, 0.0), {c: factors.get(c, 1.0) for c in HARM_CATEGORIES}, {}, {})


def _score_rules(match: Match, detections: Sequence[Detection]) -> RuleResult:
    by_cat: dict[str, list[LexiconHit]] = {}
    kept, explained_away = _attribute_shared(match.hits)
    for h in kept:
        by_cat.setdefault(h.category, []).append(h)
    contact_hits = _distinct(by_cat.pop("contact", ()))
    trade_hits = _distinct(by_cat.pop("trade", ()))
    contact_dets = [d for d in detections if d.kind in CONTACT_DETECTIONS]
    contact = min(CONTACT_CAP, _noisy_or([h.weight for h in contact_hits]
                                         + [CONTACT_DETECTIONS[d.kind] for d in contact_dets]))
    trade = min(TRADE_CAP, _noisy_or(h.weight for h in trade_hits))

    factors: dict[str, float] = {}
    for e in match.exceptions:
        for cat in (HARM_CATEGORIES if e.category == "*" else (e.category,)):
            factors[cat] = min(factors.get(cat, 1.0), e.factor)
    for cat in explained_away:
        factors[cat] = min(factors.get(cat, 1.0), EXPLAINED_AWAY_FACTOR)

    scores: dict[str, float] = {}
    counted: dict[str, tuple[LexiconHit, ...]] = {}
    used_dets: dict[str, tuple[Detection, ...]] = {}
    for cat in HARM_CATEGORIES:
        cat_hits = by_cat.get(cat)
        if not cat_hits and cat != PII_LEAK:
            # no hit, so no weights: the recipe below would give 0.0 (signals alone never count)
            scores[cat] = 0.0
            continue
        hits = _distinct(cat_hits or ())
        strong = [h for h in hits if not h.weak]
        signal = (contact if cat in CONTACT_BOOSTED else 0.0) + (trade if cat in TRADE_BOOSTED else 0.0)
        use = strong + ([h for h in hits if h.weak] if strong or signal > 0 else [])
        weights = [h.weight for h in use]
        dets: list[Detection] = []
        if cat == PII_LEAK:
            dets = _pii_detections(detections, has_doxx_words=bool(strong))
            best: dict[str, float] = {}
            for d in dets:
                best[d.kind] = PII_DETECTIONS[d.kind]
            weights += list(best.values())
        if not weights:
            scores[cat] = 0.0
            continue
        extra: list[LexiconHit] = []
        if cat in CONTACT_BOOSTED and contact > 0:
            weights.append(contact)
            extra += contact_hits
            dets += contact_dets
        if cat in TRADE_BOOSTED and trade > 0:
            weights.append(trade)
            extra += trade_hits
        score = _noisy_or(weights) * factors.get(cat, 1.0)
        if not strong and cat != PII_LEAK:
            # weak words and signals alone ("开盘" + "私信我" in a flat ad) are a hint, not a case
            score *= WEAK_ONLY_FACTOR
        scores[cat] = round(score, 4)
        counted[cat] = tuple(use + extra)
        used_dets[cat] = tuple(dets)
    return RuleResult(scores, {c: factors.get(c, 1.0) for c in HARM_CATEGORIES}, counted, used_dets)


def _pii_detections(detections: Sequence[Detection], has_doxx_words: bool) -> list[Detection]:
    # an address does not make a phone number private: shops, rentals and job ads give both
    strong_ids = any(d.kind in ("cn_id_number", "bank_card") for d in detections)
    return [d for d in detections if d.kind in PII_DETECTIONS
            and (d.kind not in PII_NEEDS_COMPANY or has_doxx_words or strong_ids)]


def combine_scores(rule: float, model: float | None, factor: float, model_threshold: float = DEFAULT_THRESHOLD,
                   threshold: float = DEFAULT_THRESHOLD) -> float:
    """The final score of one category from the rule score and the model's probability.

    The model's probability is first rescaled so that its own threshold lands on ours (a model
    calibrated to flag at 0.3 flags here at 0.5), then the larger of the two wins: rules catch
    what the model never saw (categories without training data), the model catches phrasing the
    lexicons lack. Counter-speech (`factor` < 1) scales the model's side too, so an anti-fraud
    campaign cannot be flagged by the model alone; the rule score already includes it.
    """
    if model is None:
        return rule
    model = min(1.0, max(0.0, float(model)))
    mt = min(0.99, max(0.01, model_threshold))
    if model <= mt:
        scaled = model / mt * threshold
    else:
        scaled = threshold + (model - mt) / (1.0 - mt) * (1.0 - threshold)
    return max(rule, scaled * factor)


_BY_CATEGORY = operator.itemgetter(*HARM_CATEGORIES)


def combine_batch(rules: Sequence[RuleResult], probs: Sequence[dict[str, float] | None],
                  model_thresholds: dict[str, float], thresholds: dict[str, float]) -> list[dict[str, float]]:
    """`round(combine_scores(...), 4)` for every item and category, the same values to the bit.

    Ten scalar calls and rounds per post cost more than scanning it, so the rows are done on
    arrays: the same IEEE float64 operations in the same order as `combine_scores` (so any change
    there must be made here too; tests/nlp/test_combine_batch.py holds the two equal). Rows the
    arrays cannot take exactly (no model output, a category missing, a non-finite or non-number
    probability) go through `combine_scores` itself.
    """
    out: list[dict[str, float] | None] = [None] * len(rules)
    rows: list[int] = []
    model_rows: list[tuple] = []
    for i, pr in enumerate(probs):
        if pr:
            try:
                model_rows.append(_BY_CATEGORY(pr))
                rows.append(i)
                continue
            except KeyError:
                pass
        out[i] = _combine_one(rules[i], pr, model_thresholds, thresholds)
    if rows:
        try:
            M = np.array(model_rows, dtype=np.float64)
            R = np.array([_BY_CATEGORY(rules[i].scores) for i in rows], dtype=np.float64)
            F = np.array([_BY_CATEGORY(rules[i].factors) for i in rows], dtype=np.float64)
            T = np.array([thresholds[c] for c in HARM_CATEGORIES], dtype=np.float64)
            mt = np.array([min(0.99, max(0.01, model_thresholds.get(c, DEFAULT_THRESHOLD))) for c in HARM_CATEGORIES],
                          dtype=np.float64)
            exact = M.ndim == 2 and all(np.isfinite(a).all() for a in (M, R, F, T, mt))
        except (TypeError, ValueError):
            exact = False
        if not exact:
            for i in rows:
                out[i] = _combine_one(rules[i], probs[i], model_thresholds, thresholds)
        else:
            model = _py_min(1.0, _py_max(0.0, M))
            scaled = np.where(model <= mt, model / mt * T, T + (model - mt) / (1.0 - mt) * (1.0 - T))
            for i, row in zip(rows, _round4(_py_max(R, scaled * F))):
                out[i] = dict(zip(HARM_CATEGORIES, row))
    return out  # type: ignore[return-value]


# Python's max(a, b) is a unless b > a, min(a, b) a unless b < a; np.maximum/np.minimum choose
# differently between 0.0 and -0.0, which would print "-0.0" where the scalar recipe prints "0.0"
def _py_max(a, b):
    return np.where(b > a, b, a)


def _py_min(a, b):
    return np.where(b < a, b, a)


def _combine_one(rules: RuleResult, probs, model_thresholds, thresholds) -> dict[str, float]:
    return {cat: round(combine_scores(rules.scores[cat], probs.get(cat) if probs else None, rules.factors[cat],
                                      model_thresholds.get(cat, DEFAULT_THRESHOLD), thresholds[cat]), 4)
            for cat in HARM_CATEGORIES}


def _round4(x: np.ndarray) -> list[list[float]]:
    """Python's `round(v, 4)` of every element, as nested lists of floats.

    round(v, 4) is the double nearest k/10^4, k the exact decimal value of v*10^4 rounded half
    to even; k/1e4 is one correctly rounded division, so the same double. rint(v*1e4) finds the
    same k unless v*1e4 lies within its own rounding error (< 1e-8 below 1e4) of a half: those
    few elements, and any large one, are rounded by Python.
    """
    y = x * 1e4
    k = np.rint(y)
    out = (k / 1e4).tolist()
    unsure = (np.abs(y - np.floor(y) - 0.5) < 1e-6) | ~(np.abs(y) < 1e8)
    if unsure.any():
        flat = x.tolist()
        for r, c in zip(*np.nonzero(unsure)):
            out[r][c] = round(flat[r][c], 4)
    return out


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
    def default(cls, lexicon_dir: str | Path | None = None, model_path: str | Path | None = None) -> "Analyzer":
        """The bundled lexicons (or `lexicon_dir`) and the model at `model_path`, or the bundled
        model when one ships; rules only otherwise."""
        lexicon = Lexicon.load(lexicon_dir)
        return cls(lexicon, model=_load_model(model_path))

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


def _load_model(model_path: str | Path | None):
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
        return model_mod.HarmModel.load(path)
    try:
        return model_mod.load_bundled()
    except Exception:  # noqa: BLE001 - a broken bundled model must not stop the rules
        log.exception("bundled model could not be loaded; running on rules only")
        return None
