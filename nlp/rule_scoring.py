"""Rule scoring: from the lexicon's hits and the detections to a score per category.

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
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from nlp.categories import HARM_CATEGORIES, PII_LEAK, TAXONOMY
from nlp.detectors import Detection
from nlp.lexicon import LexiconHit, Match

# which categories a contact hand-off or a trade word adds to: `boosted_by` in nlp/data/taxonomy.yaml
CONTACT_BOOSTED = TAXONOMY.boosted_by("contact")
TRADE_BOOSTED = TAXONOMY.boosted_by("trade")
# how much a contact detection says "this is an ad"; a bare phone number says little
CONTACT_DETECTIONS = {"wechat_id": 0.45, "qq_number": 0.45, "telegram": 0.5, "cheap_url": 0.4, "mobile": 0.2}
CONTACT_CAP = 0.6
TRADE_CAP = 0.5
# what each identifier adds to pii_leak; mobile only with doxxing words or another identifier
PII_DETECTIONS = {"cn_id_number": 0.8, "bank_card": 0.5, "address": 0.3, "plate_number": 0.25, "mobile": 0.25}
PII_NEEDS_COMPANY = frozenset({"mobile", "plate_number"})
WEAK_ONLY_FACTOR = 0.8
# A category whose only lexicon evidence was shared terms given to another category ("百家乐
# 稳赚不赔": fraud) keeps this share of its model score: the model read the same words.
EXPLAINED_AWAY_FACTOR = 0.5


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
