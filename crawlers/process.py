"""One crawl pass inside the current process, with Scrapy's CrawlerProcess.

Twisted's reactor starts once per process and cannot be restarted, so `crawl_in_this_process`
may be called only once per process. `crawlers.runner.run_crawl` calls it in a fresh child
process (`python -m crawlers.run_pass`) every time, which is what the CLI and the tests use.
"""
from __future__ import annotations

from typing import Callable

from scrapy import signals
from scrapy.crawler import CrawlerProcess

from crawlers.pipelines import IngestCallable
from crawlers.report import CrawlReport, SourceReport
from crawlers.settings import scrapy_settings
from crawlers.sources import Source
from crawlers.spiders import SPIDERS
from patrol.settings import Settings


def _override_settings(source: Source) -> dict:
    o = source.overrides
    pairs = {
        "USER_AGENT": o.user_agent,
        "ROBOTSTXT_OBEY": o.obey_robots,
        "CONCURRENT_REQUESTS_PER_DOMAIN": o.concurrent_per_domain,
        "DOWNLOAD_DELAY": o.download_delay,
        "DOWNLOAD_TIMEOUT": o.download_timeout,
    }
    return {k: v for k, v in pairs.items() if v is not None}


def crawl_in_this_process(
    settings: Settings,
    sources: list[Source],
    ingest: IngestCallable,
    states: dict[str, dict] | None = None,
    *,
    log_level: str = "WARNING",
    on_source_done: Callable[[SourceReport], None] | None = None,
) -> CrawlReport:
    states = states or {}
    report = CrawlReport()
    process = CrawlerProcess(scrapy_settings(settings, log_level=log_level))
    for source in sources:
        spider_cls = SPIDERS[source.kind]  # the sources schema admits only kinds that have a spider
        overrides = _override_settings(source)
        if overrides:
            # custom_settings is per class; a throwaway subclass keeps one source's overrides its own.
            spider_cls = type(spider_cls.__name__, (spider_cls,), {"custom_settings": overrides})
        crawler = process.create_crawler(spider_cls)
        crawler.patrol_ingest = ingest

        def closed(spider, reason, crawler=crawler, source=source):
            stats = dict(crawler.stats.get_stats())
            stats.setdefault("finish_reason", reason)
            entry = SourceReport.from_stats(source.name, source.kind, stats, spider.state_after)
            entry.ingested = int(stats.get("patrol/ingested", 0))
            report.sources[source.name] = entry
            if on_source_done is not None:
                on_source_done(entry)

        # weak=False: the dispatcher holds receivers weakly, and this closure has no other owner.
        crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
        process.crawl(crawler, source=source, state=states.get(source.name, {}))
    if process.crawlers:
        process.start()
    return report
