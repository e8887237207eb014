"""Analysis.to_dict, written out for speed on the ingest path, gives what dataclasses.asdict gave:
analyses stored before and after it read the same."""
from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def analyzer():
    from nlp.analyzer import Analyzer

    return Analyzer.default()


def test_the_dict_form_is_exactly_what_dataclasses_asdict_gave_so_stored_analyses_do_not_change(analyzer):
    from dataclasses import asdict

    a = analyzer.analyse("正规菠.菜平台，刷单返利，加薇❤信了解")
    assert a.evidence and a.trail and any(e.trail for e in a.evidence)
    old = asdict(a)
    old["labels"] = list(a.labels)
    old["evidence"] = [asdict(e) | {"trail": [asdict(t) for t in e.trail]} for e in a.evidence]
    old["trail"] = [asdict(t) for t in a.trail]
    old["features"] = {k: [list(f) for f in v] for k, v in a.features.items()}
    assert json.dumps(a.to_dict(), ensure_ascii=False) == json.dumps(old, ensure_ascii=False)
