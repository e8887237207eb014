"""Lexicon edits reach a long-running process (the crawl loop) without a restart."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import nlp
from nlp.analyzer import Analyzer
from nlp.lexicon import LexiconError

BUNDLED = Path(nlp.__file__).parent / "data" / "lexicons"
NEW_TERM = "蓝精灵糖豆"


@pytest.fixture
def setup(tmp_path):
    copy = tmp_path / "lexicons"
    shutil.copytree(BUNDLED, copy)
    return copy, Analyzer.default(lexicon_dir=copy, model_path=None)


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"\n{line}\n")
    st = path.stat()  # a second edit within the clock's resolution must still count as a change
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def test_unchanged_files_are_not_reloaded(setup):
    _, analyzer = setup
    assert analyzer.reload_lexicons_if_changed() is False


def test_an_edited_file_goes_live_on_the_next_check(setup):
    directory, analyzer = setup
    before = analyzer.model_version
    _append(directory / "drugs.txt", NEW_TERM)
    assert analyzer.reload_lexicons_if_changed() is True
    assert analyzer.model_version != before
    assert any(e.term == NEW_TERM for e in analyzer.analyse(f"{NEW_TERM} 有货 私聊").evidence)
    assert analyzer.reload_lexicons_if_changed() is False


def test_a_broken_edit_is_reported_once_and_the_lexicons_in_use_stay(setup):
    directory, analyzer = setup
    before = analyzer.model_version
    _append(directory / "drugs.txt", f"{NEW_TERM}\tnot-a-weight")
    with pytest.raises(LexiconError, match="drugs.txt"):
        analyzer.reload_lexicons_if_changed()
    assert analyzer.model_version == before
    assert analyzer.reload_lexicons_if_changed() is False  # not retried until the file changes again
