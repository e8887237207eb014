"""Loopback sites for crawler tests: the bundled demo site, and a tiny site of authored broken pages."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helper module beside this file must import under any --import-mode, not only "prepend".
sys.path.insert(0, str(Path(__file__).parent))
from crawl_fixture_site import FixtureSite, fixture_bytes  # noqa: E402
from crawlers.runner import run_crawl  # noqa: E402
from crawlers.sources import parse_sources  # noqa: E402
from patrol.settings import CrawlSettings, Settings  # noqa: E402


@pytest.fixture
def fixture_site():
    sites: list[FixtureSite] = []

    def make(routes):
        site = FixtureSite(routes)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.stop()


def _settings(home: Path, **crawl) -> Settings:
    crawl.setdefault("retry_times", 1)
    crawl.setdefault("download_timeout", 10.0)
    return Settings(home=home, crawl=CrawlSettings(**crawl))


def _crawl_once(settings: Settings, entries: list[dict], **kwargs):
    """One real crawl pass; returns (report, posts)."""
    posts = []
    report = run_crawl(settings, parse_sources({"sources": entries}), lambda batch: posts.extend(batch) or len(batch), **kwargs)
    return report, posts


@pytest.fixture(scope="session")
def make_settings():
    return _settings


@pytest.fixture(scope="session")
def crawl():
    return _crawl_once


@pytest.fixture(scope="session")
def bytes_of():
    return fixture_bytes
