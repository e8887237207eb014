"""Charset choice for pages that lie about theirs, redirect loops, and failures named by kind."""
from __future__ import annotations

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError, TimeoutError as TxTimeoutError
from twisted.python.failure import Failure

from crawlers.charset import choose_encoding, decode_best
from crawlers.redirects import RedirectLoop, RedirectLoopMiddleware
from crawlers.spiders._api import failure_kind

TRADITIONAL = "<p>自下週一起，敬請乘客留意。這是繁體中文的內容。</p>"
SIMPLIFIED = "<p>网友爆料：所谓刷单兼职日结又出新套路，警方提醒凡是刷单都是诈骗。</p>"


@pytest.mark.parametrize("text, sent_as, declared, expected", [
    (TRADITIONAL, "big5", "utf-8", "big5"),
    (SIMPLIFIED, "gbk", "utf-8", "gb18030"),
    (SIMPLIFIED, "utf-8", "gbk", "utf-8"),
    (TRADITIONAL, "utf-8", "big5", "utf-8"),
    (SIMPLIFIED, "gbk", "big5", "gb18030"),
])
def test_the_charset_that_reads_as_chinese_wins_over_the_declared_one(text, sent_as, declared, expected):
    assert choose_encoding(text.encode(sent_as), declared) == expected


def test_a_forced_charset_from_sources_yaml_is_obeyed():
    response = HtmlResponse("http://x/", body=TRADITIONAL.encode("big5"), encoding="utf-8")
    assert decode_best(response, forced="big5").text == TRADITIONAL
    assert decode_best(response).text == TRADITIONAL


def middleware():
    return RedirectLoopMiddleware(Counter())


class Counter:
    def __init__(self):
        self.values = {}

    def inc_value(self, key, count=1):
        self.values[key] = self.values.get(key, 0) + count


def test_a_redirect_back_into_its_own_chain_is_refused_as_a_loop():
    mw = middleware()
    request = Request("http://x/b", meta={"redirect_urls": ["http://x/a"]})
    with pytest.raises(RedirectLoop, match="redirect loop: http://x/b -> http://x/a"):
        mw.process_response(request, Response("http://x/b", status=302, headers={"Location": "/a#top"}))
    with pytest.raises(RedirectLoop):
        mw.process_response(Request("http://x/c"), Response("http://x/c", status=301, headers={"Location": "c"}))
    assert mw.stats.values == {"patrol/redirect_loops": 2}


def test_an_ordinary_redirect_passes():
    mw = middleware()
    response = Response("http://x/a", status=302, headers={"Location": "/b"})
    assert mw.process_response(Request("http://x/a"), response) is response


def failure_of(error):
    try:
        raise error
    except Exception:
        return Failure()


@pytest.mark.parametrize("error, kind", [
    (HttpError(Response("http://x/", status=503), "503"), "http_5xx"),
    (HttpError(Response("http://x/", status=404), "404"), "http_404"),
    (RedirectLoop("redirect loop: a -> a"), "redirect_loop"),
    (IgnoreRequest("Forbidden by robots.txt"), "robots"),
    (TxTimeoutError(), "timeout"),
    (ConnectionRefusedError(), "connection"),
])
def test_failures_are_counted_by_kind(error, kind):
    assert failure_kind(failure_of(error)) == kind


@pytest.mark.parametrize("kind, url", [
    ("discuz", "http://x/forum.php?mod=forumdisplay&fid=2"), ("rss", "http://x/feed"),
    ("html", "http://x/list"), ("wordpress", "http://x/"),
])
def test_every_spider_reads_a_big5_page_declared_utf8_and_counts_the_fix(kind, url):
    # Discuz and RSS spiders used to decode with the GBK/UTF-8 chooser only: 臺北 came out as 秅癬.
    from scrapy.utils.test import get_crawler

    from crawlers.spiders import SPIDERS

    source = {"name": "tw-forum", "kind": kind, "url": url}
    if kind == "html":
        source["selectors"] = {"item": "li", "link": "a", "body": "p"}
    spider_cls = SPIDERS[kind]
    crawler = get_crawler(spider_cls)
    crawler._apply_settings()
    spider = spider_cls.from_crawler(crawler, source=source)
    response = HtmlResponse("http://x/t/1", body=TRADITIONAL.encode("big5"), encoding="utf-8")
    assert spider.decoded(response).text == TRADITIONAL
    assert crawler.stats.get_value("patrol/errors/charset/tw-forum") == 1
