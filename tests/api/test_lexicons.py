"""Putting edited lexicons live without a restart: who may, what a broken file does, the audit."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import nlp
from nlp.analyzer import Analyzer

BUNDLED = Path(nlp.__file__).parent / "data" / "lexicons"
NEW_TERM = "蓝精灵糖豆"  # an invented street name, not in the bundled lexicons


@pytest.fixture
def lexicon_dir(tmp_path, services):
    copy = tmp_path / "lexicons"
    shutil.copytree(BUNDLED, copy)
    services.__dict__["analyzer"] = Analyzer.default(lexicon_dir=copy)
    return copy


def _add_drug_term(directory: Path, line: str) -> None:
    with (directory / "drugs.txt").open("a", encoding="utf-8") as fh:
        fh.write(f"\n{line}\n")


def test_a_supervisor_reloads_edited_lexicons_and_the_next_analysis_uses_them(api, services, lexicon_dir):
    text = f"{NEW_TERM} 有货 同城面交 私聊"
    assert not any(e.term == NEW_TERM for e in services.analyzer.analyse(text).evidence)
    before = api.get("alice", "/api/lexicons").json()["version"]
    _add_drug_term(lexicon_dir, NEW_TERM)

    r = api.post("sue", "/api/lexicons/reload")
    assert r.status_code == 200, r.text
    assert r.json()["previous_version"] == before and r.json()["version"] != before
    assert any(e.term == NEW_TERM for e in services.analyzer.analyse(text).evidence)
    [event] = services.store.audit_events(action="lexicon.reloaded")
    assert event.actor == "sue" and event.payload == {"from": before, "to": r.json()["version"]}


def test_a_broken_lexicon_file_is_refused_and_the_lexicons_in_use_stay(api, services, lexicon_dir):
    before = services.analyzer.model_version
    _add_drug_term(lexicon_dir, f"{NEW_TERM}\tnot-a-weight")
    r = api.post("adam", "/api/lexicons/reload")
    assert r.status_code == 422
    assert any("drugs.txt" in p for p in r.json()["detail"]["problems"])
    assert services.analyzer.model_version == before
    assert services.store.audit_events(action="lexicon.reloaded") == []


def test_officers_and_auditors_may_not_reload_lexicons(api, lexicon_dir):
    assert api.post("alice", "/api/lexicons/reload").status_code == 403
    assert api.post("audrey", "/api/lexicons/reload").status_code == 403
