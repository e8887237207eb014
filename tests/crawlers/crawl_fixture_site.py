"""A tiny loopback site serving fixed replies, for authored broken pages."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class FixtureSite:
    """Serves fixed replies by path+query; a list of replies is served in turn, the last one repeating."""

    def __init__(self, routes: dict[str, Reply | list[Reply]]):
        self.routes = {k: v if isinstance(v, list) else [v] for k, v in routes.items()}
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with site._lock:
                    count = site.hits.get(self.path, 0)
                    site.hits[self.path] = count + 1
                replies = site.routes.get(self.path)
                reply = replies[min(count, len(replies) - 1)] if replies else Reply(404, b"<h1>404</h1>")
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(reply.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def fixture_bytes(name: str, encoding: str = "utf-8") -> bytes:
    return (FIXTURES / name).read_text(encoding="utf-8").encode(encoding)
