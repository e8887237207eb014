"""Crawl + ingest throughput on a loopback site, against plain Scrapy with a no-op pipeline.

    python -m bench.crawl_bench [--posts N]

The site (html kind: list pages of 50 links, one detail page a post) is pre-rendered and served
by aiohttp in its own process, so the server does not compete with the measured code for the GIL.
Both crawls see the same site, the same concurrency and the same settings (robots.txt, no
AutoThrottle, no delay); both timings include process start-up.

- ours: `crawlers.runner.run_crawl` with the html spider, ingesting into a fresh PATROL_HOME
  (analyse, store, index, alerts: the real Ingestor from app.bootstrap);
- baseline: a plain scrapy.Spider doing the same list -> detail walk, yielding dicts to a pipeline
  that does nothing.

Goal: ours keeps at least half the baseline's posts/s.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PER_LIST_PAGE = 50
CONCURRENCY = 16
# Per-batch costs of ingest (one transaction, one analyzer call, one index write) dominate below ~200.
INGEST_BATCH = 256
GOAL_RATIO = 0.5
REPO = Path(__file__).resolve().parent.parent

SELECTORS = {"item": "ul.posts li", "link": "a.title", "next": "a.next", "title": "h1.title",
             "body": "div.content", "author": "span.author", "published": "time"}
_TOPICS = ["小区停车位紧张", "菜市场搬迁", "地铁延长线施工", "学校门口交通拥堵", "夜市噪音扰民",
           "老旧小区改造", "共享单车乱停", "公园健身器材损坏", "社区医院排队", "暴雨后道路积水"]
_RISKY = ["兼职刷单日结，先垫付后返佣，加微信 ab{n:05d} 详聊。", "出售各类证件，办理加急，联系 QQ 8{n:06d}。"]


# --- the site -----------------------------------------------------------------------------

def _detail(n: int) -> bytes:
    topic = _TOPICS[n % len(_TOPICS)]
    text = (_RISKY[n % 2].format(n=n) if n % 40 == 7 else
            f"关于{topic}的问题，第 {n} 位网友反映：情况已经持续了一段时间，附近居民意见很大，"
            f"希望有关部门尽快关注并给出处理办法。")
    return (f'<html><head><meta charset="utf-8"><title>网友来信 {n}</title></head><body>'
            f'<div class="nav"><a href="/">首页</a></div><h1 class="title">网友来信 {n}：{topic}</h1>'
            f'<span class="author">网友{n % 997}</span><time datetime="2026-11-20T10:{n % 60:02d}:00+08:00">11月20日</time>'
            f'<div class="content"><p>{text}</p></div><div class="footer">版权所有</div></body></html>').encode("utf-8")


def _list_page(page: int, pages: int, n_posts: int) -> bytes:
    first = (page - 1) * PER_LIST_PAGE
    items = "".join(f'<li><a class="title" href="/post/{n}.html">网友来信 {n}</a></li>'
                    for n in range(first, min(first + PER_LIST_PAGE, n_posts)))
    nxt = f'<a class="next" href="/list/{page + 1}.html">下一页</a>' if page < pages else ""
    return f'<html><head><meta charset="utf-8"></head><body><ul class="posts">{items}</ul>{nxt}</body></html>'.encode("utf-8")


def _serve(n_posts: int, port_queue) -> None:
    import asyncio

    from aiohttp import web

    pages = (n_posts + PER_LIST_PAGE - 1) // PER_LIST_PAGE
    content = {f"/list/{p}.html": _list_page(p, pages, n_posts) for p in range(1, pages + 1)}
    content.update({f"/post/{n}.html": _detail(n) for n in range(n_posts)})
    content["/robots.txt"] = b"User-agent: *\nAllow: /\n"

    async def handle(request):
        body = content.get(request.path)
        if body is None:
            return web.Response(status=404, text="not found")
        kind = "text/plain" if request.path.endswith(".txt") else "text/html"
        return web.Response(body=body, content_type=kind, charset="utf-8")

    async def main():
        app = web.Application()
        app.router.add_get("/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port_queue.put(site._server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


class BenchSite:
    def __init__(self, n_posts: int):
        ctx = mp.get_context("spawn")
        ports = ctx.Queue()
        self.process = ctx.Process(target=_serve, args=(n_posts, ports), daemon=True)
        self.process.start()
        self.base_url = f"http://127.0.0.1:{ports.get(timeout=120)}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


# --- the baseline: plain Scrapy, no-op pipeline -------------------------------------------

def _baseline_child(start_url: str, out_path: str) -> None:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    class NoopPipeline:
        def process_item(self, item, spider=None):
            return item

    class PlainSpider(scrapy.Spider):
        name = "baseline"

        async def start(self):
            yield scrapy.Request(start_url, self.parse_list)

        def parse_list(self, response):
            for href in response.css("ul.posts li a.title::attr(href)").getall():
                yield response.follow(href, self.parse_detail)
            nxt = response.css("a.next::attr(href)").get()
            if nxt:
                yield response.follow(nxt, self.parse_list)

        def parse_detail(self, response):
            yield {"url": response.url, "title": response.css("h1.title::text").get(),
                   "author": response.css("span.author::text").get(),
                   "published": response.css("time::attr(datetime)").get(),
                   "body": " ".join(response.css("div.content ::text").getall())}

    process = CrawlerProcess({
        "LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": True, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": CONCURRENCY, "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
        "CONCURRENT_ITEMS": 8, "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False,
        "ITEM_PIPELINES": {NoopPipeline: 100},
    })
    crawler = process.create_crawler(PlainSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    Path(out_path).write_text(json.dumps({
        "pages": int(stats.get("downloader/response_count", 0)) - int(stats.get("robotstxt/response_count", 0)),
        "posts": int(stats.get("item_scraped_count", 0)),
    }))


def run_baseline(base_url: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "baseline.json"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bench.crawl_bench", "--baseline-child", f"{base_url}/list/1.html", str(out)],
                       check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        seconds = time.perf_counter() - started
        figures = json.loads(out.read_text())
    return {**figures, "seconds": seconds}


# --- ours: the real pass and ingest --------------------------------------------------------

def run_ours(base_url: str, n_posts: int) -> dict:
    from crawlers.runner import run_crawl
    from crawlers.sources import parse_sources
    from app.bootstrap import build_services
    from patrol.settings import CrawlSettings, Settings

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), redis_url=None, elasticsearch_url=None, crawl=CrawlSettings(
            autothrottle=False, download_delay=0.0, concurrent_requests=CONCURRENCY,
            concurrent_per_domain=CONCURRENCY, retry_times=1, ingest_batch_size=INGEST_BATCH))
        sources = parse_sources({"sources": [{
            "name": "bench-site", "kind": "html", "url": f"{base_url}/list/1.html",
            "max_pages": n_posts // PER_LIST_PAGE + 2, "selectors": SELECTORS}]})
        services = build_services(settings)
        services.ingestor  # built before the clock starts: loading the model is not crawling
        ingested = {"posts": 0, "new": 0, "alerts": 0}

        def ingest(batch):
            report = services.ingestor.ingest(batch)
            ingested["posts"] += len(batch)
            ingested["new"] += report.new
            ingested["alerts"] += report.alerts_opened
            return report

        try:
            started = time.perf_counter()
            report = run_crawl(settings, sources, ingest, source_names=None)
            seconds = time.perf_counter() - started
            stored = services.store.counts()["posts"]
        finally:
            services.close()
    entry = report.sources["bench-site"]
    if entry.error:
        raise RuntimeError(f"the html crawl could not run: {entry.error}")
    return {"pages": entry.pages_fetched, "posts": ingested["posts"], "stored": stored,
            "alerts": ingested["alerts"], "seconds": seconds, "ok": entry.ok}


def run(n_posts: int = 20000) -> dict:
    site = BenchSite(n_posts)
    try:
        baseline = run_baseline(site.base_url)
        ours = run_ours(site.base_url, n_posts)
    finally:
        site.stop()
    rate = lambda figures, key: round(figures[key] / figures["seconds"], 1)  # noqa: E731
    result = {
        "site_posts": n_posts,
        "ours_pages_per_s": rate(ours, "pages"), "ours_posts_per_s": rate(ours, "posts"),
        "ours_seconds": round(ours["seconds"], 1), "ours_stored": ours["stored"], "ours_alerts": ours["alerts"],
        "noop_pages_per_s": rate(baseline, "pages"), "noop_posts_per_s": rate(baseline, "posts"),
        "noop_seconds": round(baseline["seconds"], 1),
    }
    result["ratio_posts_per_s"] = round(result["ours_posts_per_s"] / max(result["noop_posts_per_s"], 1e-9), 2)
    result["goal"] = f">= {GOAL_RATIO} of the no-op rate"
    result["goal_met"] = result["ratio_posts_per_s"] >= GOAL_RATIO and ours["stored"] == n_posts
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crawl_bench")
    parser.add_argument("--posts", type=int, default=20000, help="posts on the fixture site (default 20000)")
    parser.add_argument("--baseline-child", nargs=2, metavar=("START_URL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_child:
        _baseline_child(*args.baseline_child)
        return 0
    if args.posts < 1:
        parser.error("--posts must be at least 1")
    print(json.dumps(run(args.posts), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
