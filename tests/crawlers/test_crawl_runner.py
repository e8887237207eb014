"""The runner: passes in a child process, state saved only after ingest, sources it cannot crawl."""
import pytest

from crawlers.runner import run_crawl
from crawlers.sources import parse_sources
from crawlers.state import CrawlState
from demosite import DemoSite
from demosite.sources import demo_sources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site():
    with DemoSite() as running:
        yield running


def news_only(site):
    return parse_sources({"sources": [e for e in demo_sources(site) if e["kind"] == "rss"]})


def test_a_failing_ingest_stops_the_pass_and_leaves_the_state_untouched(site, make_settings, tmp_path):
    settings = make_settings(tmp_path)

    def broken_ingest(batch):
        raise RuntimeError("index is down")

    with pytest.raises(RuntimeError, match="index is down"):
        run_crawl(settings, news_only(site), broken_ingest)
    assert CrawlState.open(settings).load("demo-news") == {}

    # So the next pass fetches everything again instead of believing it was ingested.
    collected = []
    report = run_crawl(settings, news_only(site), collected.extend)
    assert len(collected) == len(site.catalogue.news) == report.sources["demo-news"].ingested
    assert CrawlState.open(settings).load("demo-news").get("etag")


def test_ingest_reports_are_returned_one_per_batch(site, make_settings, tmp_path):
    settings = make_settings(tmp_path, ingest_batch_size=7)
    report = run_crawl(settings, news_only(site), lambda batch: {"posts": len(batch)})
    n = len(site.catalogue.news)   # the feed's items, batched by seven
    assert report.ingest_reports == [{"posts": 7}] * (n // 7) + ([{"posts": n % 7}] if n % 7 else [])


def test_only_the_named_sources_are_crawled(site, make_settings, tmp_path):
    collected = []
    sources = parse_sources({"sources": demo_sources(site)})
    report = run_crawl(make_settings(tmp_path), sources, collected.extend, source_names=["demo-market"])
    assert set(report.sources) == {"demo-market"}
    assert {p.source for p in collected} == {"demo-market"}
