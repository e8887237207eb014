"""Fixtures for the browser tests: the demo site crawled once into a temp PATROL_HOME, the API and
console served by uvicorn on a free loopback port, and Debian's chromium driven by Playwright.

The crawl is the slow part (~10 s), so it is shared by the whole browser session; each module gets
its own browser, and each test its own contexts (cookie jars), so no login leaks between tests.
Tests that change alerts pick alerts no other test touches.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import httpx
import pytest

from api.main import create_app
from demosite.server import DemoSite
from app.bootstrap import build_services
from app.demo import crawl_demo_site
from patrol.settings import ApiSettings, Settings
from patrol.store import Store
from tests.browser.people import USERS, login, password_of
from tests.live_server import live_app

CHROMIUM = "/usr/bin/chromium"
# Chromium's own background traffic (updates, sync, field trials, QUIC probes) is refused on a
# closed network and only slows start-up down: switch all of it off.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _need_browser():
    """Under CI a missing browser is a broken machine, not a reason to skip."""
    problems = []
    if shutil.which(CHROMIUM) is None:
        problems.append(f"{CHROMIUM} is missing (scripts/install-system.sh installs Debian's chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright package is not installed (pip install -e .[test])")
    if problems:
        if os.environ.get("CI") == "true":
            pytest.fail("; ".join(problems))
        pytest.skip("; ".join(problems))


@dataclass
class Console:
    base_url: str
    services: object

    @contextmanager
    def api(self, user: str) -> Iterator[httpx.Client]:
        """An HTTP client holding `user`'s bearer token, for checking what the console did."""
        with httpx.Client(base_url=self.base_url, timeout=20) as client:
            r = client.post("/api/auth/token", data={"username": user, "password": password_of(user)})
            assert r.status_code == 200, r.text
            client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
            yield client


@pytest.fixture(scope="session")
def console(tmp_path_factory):
    _need_browser()
    home = tmp_path_factory.mktemp("patrol-home")
    # Explicit Nones: a PATROL_* variable in the environment must not point the tests elsewhere.
    settings = Settings(home=home, database_url=None, elasticsearch_url=None, redis_url=None,
                        # The server-side deadline check every second, so a test sees it act.
                        api=ApiSettings(secret_key="browser-test-secret", deadline_check_seconds=1))
    services = build_services(settings)
    with DemoSite() as site:
        crawl_demo_site(services, site)
    # Users through a second Store at bcrypt's lowest cost: the hash carries its cost, so the app's
    # own store checks these passwords quickly; nothing else differs. The same audit key: the chain is keyed.
    users = Store(settings.resolved_database_url, password_rounds=4, audit_key=services.store.audit_key)
    for name, role in USERS.items():
        users.add_user(name, role, password_of(name))
    users.close()

    with live_app(create_app(services)) as base_url:
        yield Console(base_url, services)
    services.close()


@pytest.fixture(scope="module")
def browser(console):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # launch() gives every browser a fresh temporary profile of its own.
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def new_page(browser, console):
    """Pages in fresh browser contexts (separate cookie jars: separate people). Any JavaScript
    dialog is recorded and dismissed, so a test can assert that none ever opened."""
    contexts = []

    def make():
        ctx = browser.new_context(base_url=console.base_url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.dialogs = []

        def on_dialog(dialog):
            page.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where the browser tests leave screenshots for a person to look at (artifacts/ is git-ignored;
    PATROL_TEST_ARTIFACTS moves it)."""
    root = Path(os.environ.get("PATROL_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts"))
    path = root / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def officer_page(new_page):
    """A page logged in as the officer olga."""
    page = new_page()
    login(page, "olga")
    return page
