"""Fixtures for the API tests: the real app over a real SQLite store and a real SqliteIndex in a
temp dir, users of every role, and builders that raise real alerts through the alert rules."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
import os
from itertools import count

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.main import create_app
from nlp.analysis import Analysis, Evidence, TrailStep
from patrol.alerts import evaluate_rules, load_rules
from app.bootstrap import build_services
from patrol.posts import RawPost
from patrol.settings import ApiSettings, Settings
from patrol.store import PostRecord, Store
from search.index import IndexedPost

USERS = {
    "alice": "officer",
    "bob": "officer",
    "sue": "supervisor",
    "audrey": "auditor",
    "adam": "admin",
}


def password_of(name: str) -> str:
    return f"pw-{name}-secret"


PG_URL = os.environ.get("PATROL_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture
def database_url():
    """None: SQLite under tmp_path. A module runs its tests on PostgreSQL too (where NUL characters,
    column lengths and types are enforced) by overriding this fixture to return `backend_url`."""
    return None


@pytest.fixture(params=BACKENDS)
def backend_url(request) -> str | None:
    """None for SQLite, else PATROL_TEST_DATABASE_URL with its public schema emptied."""
    if request.param != "postgresql":
        return None
    request.applymarker(pytest.mark.postgres)
    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return PG_URL


@pytest.fixture
def services(tmp_path, database_url):
    # Explicit Nones: a PATROL_* variable in the environment must not point the tests elsewhere.
    settings = Settings(home=tmp_path, database_url=database_url, elasticsearch_url=None,
                        api=ApiSettings(secret_key="test-secret-key"))
    svc = build_services(settings)
    # The real composition root (its SqliteIndex under tmp_path), except that the store is built
    # here with bcrypt at its lowest cost: logins stay fast, which is all the tests need from it.
    svc.__dict__["store"] = Store(settings.resolved_database_url, password_rounds=4)
    for name, role in USERS.items():
        svc.store.add_user(name, role, password_of(name))
    yield svc
    svc.close()


@pytest.fixture
def app(services):
    return create_app(services)


@pytest.fixture
def client(app):
    # Server errors come back as responses, so tests can assert "never a 5xx".
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


class Api:
    """Calls the API as a given user."""

    def __init__(self, client: TestClient):
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, name: str) -> str:
        if name not in self._tokens:
            r = self.client.post("/api/auth/token", data={"username": name, "password": password_of(name)})
            assert r.status_code == 200, r.text
            self._tokens[name] = r.json()["access_token"]
        return self._tokens[name]

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(name)}"}

    def get(self, name: str, url: str, headers: dict | None = None, **kw):
        return self.client.get(url, headers={**self.headers(name), **(headers or {})}, **kw)

    def post(self, name: str, url: str, headers: dict | None = None, **kw):
        return self.client.post(url, headers={**self.headers(name), **(headers or {})}, **kw)


@pytest.fixture
def api(client):
    return Api(client)


class Seeder:
    """Puts posts into the store and the index and raises their alerts with the default rules."""

    def __init__(self, services):
        self.svc = services
        self.rules = load_rules()
        self._n = count(1)

    def post(self, text: str, *, category: str = "drugs", score: float = 0.9, title: str = "",
             source: str = "city-forum", evidence: tuple[Evidence, ...] = (), trail: tuple[TrailStep, ...] = (),
             published_at: datetime | None = None, opened_at: datetime | None = None,
             alert: bool = True) -> tuple[str | None, str]:
        """Returns (alert id or None, post id)."""
        n = next(self._n)
        now = opened_at or datetime.now(timezone.utc)
        # A few minutes ago, but never before today's UTC midnight: per-day views count it as today.
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        published = published_at or max(now - timedelta(minutes=5), midnight)
        raw = RawPost(source=source, url=f"https://bbs.example.cn/t/{n}", external_id=f"t{n}", text=text,
                      title=title, author=f"user{n}", published_at=published, fetched_at=now,
                      content_sha256=f"{n:064x}")
        labels = (category,) if category != "none" else ()
        analysis = Analysis(primary=category, labels=labels, scores={category: score} if labels else {},
                            evidence=evidence, trail=trail, normalised=text, model_version="test-1")
        record = PostRecord.from_raw(raw, analysis)
        found = evaluate_rules(raw, analysis, self.rules, now) if alert else None
        self.svc.store.save_batch([record], [found] if found else [], now)
        self.svc.index.add([IndexedPost(
            id=raw.id, source=source, url=raw.url, title=title, text=text, author=raw.author,
            published_at=published, fetched_at=now, primary=category if labels else "none",
            categories=labels, status="open" if found else "")])
        return (found.id if found else None), raw.id


@pytest.fixture
def seed(services):
    return Seeder(services)
