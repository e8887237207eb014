"""`combine_batch` (arrays) gives exactly what `round(combine_scores(...), 4)` (scalars) gives."""
from __future__ import annotations

import random

from nlp.analyzer import RuleResult, _round4, combine_batch, combine_scores
from nlp.categories import HARM_CATEGORIES

import numpy as np


def _scalar(rules, probs, model_thresholds, thresholds):
    return [{c: round(combine_scores(r.scores[c], p.get(c) if p else None, r.factors[c],
                                     model_thresholds.get(c, 0.5), thresholds[c]), 4) for c in HARM_CATEGORIES}
            for r, p in zip(rules, probs)]


def _rules(rng):
    scores = {c: rng.choice([0.0, 0.0, round(rng.random(), 4), 0.5, 1.0]) for c in HARM_CATEGORIES}
    factors = {c: rng.choice([1.0, 1.0, 0.5, 0.3, 0.0]) for c in HARM_CATEGORIES}
    return RuleResult(scores, factors, {}, {})


def _probs(rng):
    kind = rng.random()
    if kind < 0.1:
        return None
    if kind < 0.15:
        return {c: rng.random() for c in HARM_CATEGORIES[:4]}  # a model that knows fewer categories
    # six-decimal probabilities, as the bundled model gives, and exact halves of the 4th decimal
    return {c: rng.choice([round(rng.random(), 6), rng.randrange(20001) / 20000, 0.0, -0.0, 1.0, 1.2, -0.1])
            for c in HARM_CATEGORIES}


def test_batch_scores_equal_the_scalar_recipe_bit_for_bit():
    rng = random.Random(3)
    model_thresholds = {c: rng.choice([0.5, 0.2, 0.0, 1.0, rng.random()]) for c in HARM_CATEGORIES}
    thresholds = {c: rng.choice([0.5, 0.3, 0.8]) for c in HARM_CATEGORIES}
    rules = [_rules(rng) for _ in range(20_000)]
    probs = [_probs(rng) for _ in rules]
    got = combine_batch(rules, probs, model_thresholds, thresholds)
    want = _scalar(rules, probs, model_thresholds, thresholds)
    assert [[repr(v) for v in d.values()] for d in got] == [[repr(v) for v in d.values()] for d in want]
    assert all(type(v) is float for d in got for v in d.values())


def test_odd_model_outputs_fall_back_to_the_scalar_recipe():
    rules = [_rules(random.Random(i)) for i in range(4)]
    probs = [{c: float("nan") for c in HARM_CATEGORIES}, {c: np.float32(0.7) for c in HARM_CATEGORIES},
             {c: 1 for c in HARM_CATEGORIES}, {}]
    thresholds = {c: 0.5 for c in HARM_CATEGORIES}
    got = combine_batch(rules, probs, {}, thresholds)
    want = _scalar(rules, probs, {}, thresholds)
    assert repr(got) == repr(want)
    odd_thresholds = dict(thresholds, fraud=float("nan"))
    probs = [{c: 0.3 for c in HARM_CATEGORIES} for _ in rules]
    assert repr(combine_batch(rules, probs, {}, odd_thresholds)) == repr(_scalar(rules, probs, {}, odd_thresholds))


def test_rounding_to_four_places_matches_python_round_on_halves_and_noise():
    rng = random.Random(8)
    values = [k / 20000 for k in range(20001)] + [rng.random() for _ in range(50_000)]
    values += [v + d for v in (0.00005, 0.12345, 0.99995) for d in (-1e-17, 1e-17, -1e-12, 1e-12)]
    got = _round4(np.array([values]))[0]
    assert [repr(v) for v in got] == [repr(round(v, 4)) for v in values]
