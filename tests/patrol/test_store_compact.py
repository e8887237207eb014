"""The posts table keeps analyses compact (a normalised text equal to the post is not stored twice,
JSON without \\u escapes) and gives them back whole: callers never see the difference."""
from __future__ import annotations

from dataclasses import replace

import pytest

from sqlalchemy import select, text

from patrol.store import PostRecord
from patrol.store.schema import posts


def _stored(store, post_id: str):
    with store.engine.connect() as conn:
        return conn.execute(select(posts.c.analysis).where(posts.c.id == post_id)).scalar_one()


def test_an_unchanged_normalised_text_is_not_stored_but_comes_back(store, make):
    raw = make.raw("c1", text="今天天气不错", title="周末")
    analysis = replace(make.analysis(), normalised="周末\n今天天气不错")
    store.save_batch([PostRecord.from_raw(raw, analysis)], [], make.now)
    assert "normalised" not in _stored(store, raw.id)
    assert store.get_post(raw.id).analysis["normalised"] == "周末\n今天天气不错"
    assert store.get_posts([raw.id])[0].analysis == PostRecord.from_raw(raw, analysis).analysis


def test_a_normalised_text_that_differs_is_kept(store, make):
    raw = make.raw("c2", text="正规菠.菜平台")
    analysis = replace(make.analysis("gambling"), normalised="正规博彩平台")
    store.save_batch([PostRecord.from_raw(raw, analysis)], [], make.now)
    assert _stored(store, raw.id)["normalised"] == "正规博彩平台"
    assert store.get_post(raw.id).analysis["normalised"] == "正规博彩平台"


def test_json_is_stored_as_utf8_not_escaped(store, make):
    raw = make.raw("c3", text="正规菠.菜平台")
    store.save_batch([PostRecord.from_raw(raw, replace(make.analysis("gambling"), normalised="正规博彩平台"))],
                     [], make.now)
    if store.dialect != "sqlite":
        pytest.skip("PostgreSQL keeps jsonb in its own binary form: no stored text to look at")
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT analysis FROM posts WHERE id = :i"), {"i": raw.id}).scalar_one()
    assert "正规博彩平台" in stored and "\\u" not in stored
