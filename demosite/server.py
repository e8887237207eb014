"""The demo site's HTTP server: a Discuz! forum, a news feed and robots.txt on loopback."""
from __future__ import annotations

import hashlib
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from zoneinfo import ZoneInfo
from demosite import discuz_pages, news_pages

SHANGHAI = ZoneInfo("Asia/Shanghai")
from demosite.catalogue import Catalogue, load_catalogue

ROBOTS_TXT = """User-agent: *
Disallow: /admin/
Disallow: /api/
Disallow: /home.php?mod=spacecp
Disallow: /member.php
Allow: /
"""


class DemoSite:
    """Serves the bundled content on loopback in a background thread.

    `now` freezes the site's clock (tests); by default the site uses the real time, with the
    content anchored at the moment it was built.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, now: datetime | None = None):
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.host = host
        self.port = port
        self._frozen_now = now.astimezone(SHANGHAI) if now else None
        self.catalogue: Catalogue = load_catalogue(self.now())
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def now(self) -> datetime:
        return self._frozen_now or datetime.now(SHANGHAI)

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the demo site is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        if self._server is not None:
            return self.base_url
        site = self

        class Handler(_DemoHandler):
            demo = site

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="demosite", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> "DemoSite":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def record(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)

    def board_url(self, fid: int) -> str:
        return f"{self.base_url}/forum.php?mod=forumdisplay&fid={fid}"

    @property
    def feed_url(self) -> str:
        return f"{self.base_url}/news/rss.xml"


def _int(query: dict[str, list[str]], key: str, default: int | None = None) -> int | None:
    try:
        return int(query[key][0])
    except (KeyError, IndexError, ValueError):
        return default


class _DemoHandler(BaseHTTPRequestHandler):
    demo: DemoSite
    server_version = "nginx/1.24.0"
    sys_version = ""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        pass  # the tests and `patrol demo` have their own output; per-request lines are noise

    def do_GET(self) -> None:
        self.demo.record(self.path)
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        cat, now = self.demo.catalogue, self.demo.now()
        path = url.path
        if path == "/robots.txt":
            return self._send(200, ROBOTS_TXT, "text/plain", "utf-8")
        if path.startswith("/admin"):
            return self._send(403, "<h1>403 Forbidden</h1>", "text/html", "utf-8")
        if path in ("/", "/forum.php", "/index.php"):
            mod = (query.get("mod") or [""])[0]
            if mod == "forumdisplay":
                return self._board(query, now)
            if mod == "viewthread":
                return self._thread(query, now)
            if mod == "redirect" and (query.get("goto") or [""])[0] == "findpost":
                return self._findpost(query)
            return self._send(200, discuz_pages.index_page(cat, now), "text/html", "utf-8")
        if path == "/news/rss.xml":
            return self._feed()
        if path.startswith("/news/article/") and path.endswith(".html"):
            return self._article(path)
        return self._send(404, "<html><body><h1>404 Not Found</h1></body></html>", "text/html", "utf-8")

    def _board(self, query, now) -> None:
        cat = self.demo.catalogue
        board = cat.boards.get(_int(query, "fid", -1))
        if board is None:
            return self._send(200, discuz_pages.message_page(cat, "抱歉，指定的版块不存在"), "text/html", "utf-8")
        html, _ = discuz_pages.thread_list_page(cat, board, _int(query, "page", 1) or 1, now)
        self._send(200, html, "text/html", board.charset)

    def _thread(self, query, now) -> None:
        cat = self.demo.catalogue
        thread = cat.threads.get(_int(query, "tid", -1))
        if thread is None:
            # Discuz answers a deleted thread with 200 and a message, not with 404.
            return self._send(200, discuz_pages.message_page(cat, discuz_pages.MISSING_THREAD), "text/html", "utf-8")
        html, _ = discuz_pages.thread_page(cat, thread, _int(query, "page", 1) or 1, now)
        self._send(200, html, "text/html", cat.boards[thread.fid].charset)

    def _findpost(self, query) -> None:
        """Discuz's permalink of one floor (the URL the crawler stores as the post's 原链接):
        a redirect to the page of the thread that holds the floor, anchored on it."""
        cat = self.demo.catalogue
        found = cat.floors_by_pid.get(_int(query, "pid", -1))
        if found is None:
            return self._send(200, discuz_pages.message_page(cat, discuz_pages.MISSING_THREAD), "text/html", "utf-8")
        thread, floor = found
        page = thread.floors.index(floor) // cat.posts_per_page + 1
        self.send_response(302)
        self.send_header("Location", f"/forum.php?mod=viewthread&tid={thread.tid}&page={page}#pid{floor.pid}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _feed(self) -> None:
        body = news_pages.feed_xml(self.demo.catalogue, self.demo.base_url).encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self._send_bytes(200, body, "application/rss+xml; charset=utf-8", {"ETag": etag})

    def _article(self, path: str) -> None:
        cat = self.demo.catalogue
        try:
            wanted = int(path.rsplit("/", 1)[1].removesuffix(".html"))
        except ValueError:
            wanted = -1
        item = next((n for n in cat.news if n.id == wanted), None)
        if item is None:
            return self._send(404, "<html><body><h1>404 Not Found</h1></body></html>", "text/html", "utf-8")
        self._send(200, news_pages.article_html(item, cat), "text/html", "utf-8")

    def _send(self, status: int, text: str, content_type: str, charset: str) -> None:
        # GBK cannot hold emoji; Discuz boards in GBK store them as numeric character references.
        body = text.encode(charset, errors="xmlcharrefreplace")
        self._send_bytes(status, body, f"{content_type}; charset={charset}")

    def _send_bytes(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
