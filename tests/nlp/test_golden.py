"""The live nlp code gives exactly the outputs recorded in tests/nlp/golden/ for the fixed corpus.

The golden files hold, for every text of golden/corpus.py, the normalised text, trail and offset
mapping, the lexicon's and detectors' hits, the Analyzer's results (rules only and with the
bundled model), the model's probabilities, a digest of the feature matrices and explanations of
a model whose weights tie. Everything is compared exactly, floats included: the shipped model was
trained on these features, so a faster path that moved a hash bucket would silently invalidate
it. When a change of output is intended, run `python -m tests.nlp.golden.regenerate` and read
the diff of the golden files before committing them.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from golden import regenerate  # noqa: E402
from golden.corpus import CORPUS, TEXTS  # noqa: E402

from nlp import model  # noqa: E402

NAMES = ("normalise", "lexicon", "detectors", "analyzer_rules", "analyzer_model", "features", "explain_ties")
HOW = "if the change is intended: python -m tests.nlp.golden.regenerate, then read the diff"


@pytest.fixture(scope="module")
def computed() -> dict[str, list]:
    if not model.BUNDLED_MODEL_PATH.is_file():
        pytest.skip("no bundled model")
    return regenerate.compute()


def test_the_corpus_covers_every_evasion_kind():
    kinds = {k for k, _ in CORPUS}
    assert {"ordinary", "homophone", "pinyin", "separator", "fullwidth", "variant", "traditional", "split", "emoji",
            "digits", "link", "contact", "counter", "hostile"} <= kinds
    assert len(set(TEXTS)) == len(TEXTS), "a text listed twice"


@pytest.mark.parametrize("name", NAMES)
def test_output_equals_the_golden_file(computed, name):
    path = regenerate.path_of(name)
    assert path.is_file(), f"{path} missing: {HOW}"
    golden = json.loads(path.read_text(encoding="utf-8"))
    now = computed[name]
    assert len(now) == len(golden), f"{name}: {len(now)} records, golden has {len(golden)}; {HOW}"
    for i, (n, g) in enumerate(zip(now, golden)):
        assert n == g, f"{name} record {i} ({str(g.get('text', g.get('config', '')))[:40]!r}) changed; {HOW}"


def test_the_golden_files_are_written_as_regenerate_writes_them(computed):
    """No hand edits: the bytes are what the command writes, so a regeneration diff is only real changes."""
    for name in NAMES:
        assert regenerate.path_of(name).read_text(encoding="utf-8") == regenerate.dumps(computed[name]), name


def test_the_nothing_found_shortcut_scores_as_the_full_rule_recipe():
    """nlp.analyzer.score_rules skips the per-category walk when nothing was found; whatever the
    recipe becomes, the shortcut must give what the full recipe gives."""
    from nlp.analyzer import _score_rules, score_rules
    from nlp.lexicon import ExceptionHit, Lexicon, Match
    from nlp.normalise import normalise

    lex = Lexicon.load()
    quiet = []
    for text in TEXTS:
        match = lex.scan(normalise(text, lex.fold_terms).text)
        if not match.hits:
            quiet.append(match)
    assert len(quiet) > 30 and any(m.exceptions for m in quiet)
    quiet += [Match((), (ExceptionHit("*", "笑死", 0, 2, 0.3), ExceptionHit("fraud", "警惕…诈骗", 3, 9, 0.0))), Match((), ())]
    for match in quiet:
        assert score_rules(match, ()) == _score_rules(match, ())
