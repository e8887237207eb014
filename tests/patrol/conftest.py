"""Fixtures for the core's tests: a real database in a temp dir (or PATROL_TEST_DATABASE_URL),
posts and analyses built as values, and a fixed clock."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from nlp.analysis import Analysis, Evidence
from patrol.alerts import evaluate_rules, load_rules
from patrol.posts import RawPost
from patrol.store import PostRecord, Store

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
PG_URL = os.environ.get("PATROL_TEST_DATABASE_URL")

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _fresh_postgres(url: str) -> str:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A URL to an empty workflow database: SQLite in a temp dir, and PostgreSQL too when
    PATROL_TEST_DATABASE_URL is set (the test scripts start one)."""
    if request.param == "postgresql":
        request.applymarker(pytest.mark.postgres)
        return _fresh_postgres(PG_URL)
    return f"sqlite:///{tmp_path / 'patrol.db'}"


@pytest.fixture
def store(db_url):
    s = Store(db_url, password_rounds=4)
    yield s
    s.close()


@pytest.fixture
def rules():
    return load_rules()


class Make:
    """Builders for test values, reached through the `make` fixture (conftest modules are not importable)."""

    now = NOW

    @staticmethod
    def raw(external_id="t1", text="出冰，同城面交，加薇", title="", source="city-forum", **kw) -> RawPost:
        kw.setdefault("fetched_at", NOW)
        kw.setdefault("published_at", NOW - timedelta(hours=1))
        kw.setdefault("content_sha256", "ab" * 32)
        return RawPost(source=source, url=f"https://bbs.example.cn/t/{external_id}", external_id=external_id,
                       text=text, title=title, author="u123", **kw)

    @staticmethod
    def analysis(*labels: str, score: float = 0.9, evidence=(), scores=None) -> Analysis:
        return Analysis(
            primary=labels[0] if labels else "none",
            labels=tuple(labels),
            scores=scores if scores is not None else {c: score for c in labels},
            evidence=tuple(evidence),
            model_version="test-1",
        )

    @staticmethod
    def minor_evidence() -> Evidence:
        return Evidence(category="porn_sexual", source="lexicon", term="minor:幼女", start=0, end=2, text="幼女")

    @staticmethod
    def record(r: RawPost, an: Analysis | None = None) -> PostRecord:
        return PostRecord.from_raw(r, an)

    @staticmethod
    def post_with_alert(store: Store, rules, external_id="t1", labels=("drugs",), now=NOW, **kw):
        """Save one post that raises an alert; returns (PostRecord, Alert)."""
        r = Make.raw(external_id, **kw)
        an = Make.analysis(*labels)
        alert = evaluate_rules(r, an, rules, now)
        assert alert is not None
        store.save_batch([Make.record(r, an)], [alert], now)
        return Make.record(r, an), alert


@pytest.fixture
def make():
    return Make


@pytest.fixture
def people(store):
    """An officer, a second officer, a supervisor, an auditor and an admin in the store."""
    for name, role in (("li", "officer"), ("wang", "officer"), ("zhao", "supervisor"),
                       ("qian", "auditor"), ("sun", "admin")):
        store.add_user(name, role, f"{name}-password", now=NOW)
    return {name: store.get_user(name) for name in ("li", "wang", "zhao", "qian", "sun")}
