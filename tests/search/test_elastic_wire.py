"""ElasticIndex through the official client over real HTTP, against a stand-in cluster on loopback
that answers the few REST calls of writing (the one fake the house allows: no Elasticsearch
server can run here). It checks what the client really sends: the template, the first version and
its alias in that order, bulk items the cluster was too busy for sent again, and a cluster that
drops the connection in the middle of a bulk request losing nothing through the spool.

It does not check search: the stand-in has no search engine (the contract suite does, with
PATROL_TEST_ES_URL)."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from search.index import IndexedPost

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def post(i: int, text: str = "") -> IndexedPost:
    return IndexedPost(id=f"p{i}", source="blog", url=f"https://example.cn/{i}", title=f"标题{i}",
                       text=text or f"网上博彩第{i}号", author="a", published_at=T0 + timedelta(minutes=i),
                       fetched_at=T0)


class Cluster:
    """What the stand-in knows: calls received, documents per index, the alias, the failure mode."""

    def __init__(self):
        self.calls: list[str] = []
        self.docs: dict[str, dict[str, dict]] = {}
        self.writes: list[str] = []        # document ids in the order they were written
        self.alias: dict[str, str] = {}
        self.mode = "ok"                   # ok | busy_once | drop
        self.busy_seen: set[str] = set()


def handler_for(cluster: Cluster):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, status: int, body: dict | None = None):
            data = json.dumps(body or {}).encode()
            self.send_response(status)
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_HEAD(self):
            cluster.calls.append(f"HEAD {self.path}")
            if self.path.startswith("/_alias/"):
                return self._send(200 if self.path[len("/_alias/"):] in cluster.alias else 404)
            return self._send(200 if self.path.strip("/") in cluster.docs else 404)

        def do_PUT(self):
            raw = self._body()
            path = self.path.split("?")[0]
            cluster.calls.append(f"PUT {path}")
            if path == "/_bulk":  # the client sends bulk requests as PUT
                return self._bulk([json.loads(line) for line in raw.decode().splitlines() if line.strip()])
            if not path.startswith("/_index_template/"):
                cluster.docs.setdefault(path.strip("/"), {})
            self._send(200, {"acknowledged": True})

        def do_GET(self):
            path = self.path.split("?")[0]
            cluster.calls.append(f"GET {path}")
            if path.startswith("/_alias/"):
                name = path[len("/_alias/"):]
                return self._send(200, {cluster.alias[name]: {"aliases": {name: {}}}})
            if path.endswith("/_mapping"):
                index = path.strip("/").split("/")[0]
                return self._send(200, {index: {"mappings": {"_meta": {"patrol_layout": 2}}}})
            self._send(404, {"error": {"type": "index_not_found_exception"}, "status": 404})

        def do_POST(self):
            raw = self._body()
            path = self.path.split("?")[0]
            cluster.calls.append(f"POST {path}")
            if path == "/_aliases":
                for action in json.loads(raw)["actions"]:
                    if "add" in action:
                        cluster.alias[action["add"]["alias"]] = action["add"]["index"]
                return self._send(200, {"acknowledged": True})
            if path == "/_bulk":
                return self._bulk([json.loads(line) for line in raw.decode().splitlines() if line.strip()])
            self._send(404, {})

        def _bulk(self, lines: list[dict]):
            items, pairs = [], list(zip(lines[0::2], lines[1::2]))
            for n, (action, source) in enumerate(pairs):
                op, meta = next(iter(action.items()))
                index = cluster.alias.get(meta["_index"], meta["_index"])
                if cluster.mode == "drop" and n == len(pairs) // 2:
                    # half the batch is in, then the connection goes: no answer at all
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if cluster.mode == "busy_once" and meta["_id"] not in cluster.busy_seen and n % 2:
                    cluster.busy_seen.add(meta["_id"])
                    items.append({op: {"_id": meta["_id"], "status": 429,
                                       "error": {"type": "es_rejected_execution_exception"}}})
                    continue
                if op == "update":
                    doc = cluster.docs.get(index, {}).get(meta["_id"])
                    if doc is None:
                        items.append({op: {"_id": meta["_id"], "status": 404,
                                           "error": {"type": "document_missing_exception"}}})
                        continue
                    doc.update(source["doc"])
                else:
                    cluster.docs.setdefault(index, {})[meta["_id"]] = source
                cluster.writes.append(meta["_id"])
                items.append({op: {"_id": meta["_id"], "status": 201}})
            self._send(200, {"took": 1, "errors": any(next(iter(i.values()))["status"] >= 300 for i in items),
                             "items": items})

    return Handler


@pytest.fixture
def cluster():
    state = Cluster()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def open_index(cluster):
    from search.elastic_index import ElasticIndex

    return ElasticIndex(cluster.url, "patrol-posts", refresh=False, request_timeout=5, bulk_backoff=0.01)


def test_a_new_cluster_gets_the_template_then_version_one_then_the_alias(cluster):
    index = open_index(cluster)
    assert index.current == "patrol-posts-v1"
    writes = [c for c in cluster.calls if not c.startswith(("HEAD", "GET"))]
    assert writes == ["PUT /_index_template/patrol-posts-template", "PUT /patrol-posts-v1", "POST /_aliases"]
    assert cluster.alias == {"patrol-posts": "patrol-posts-v1"}
    index.close()


def test_items_refused_as_too_busy_are_sent_again_and_every_post_is_written_once(cluster):
    index = open_index(cluster)
    cluster.mode = "busy_once"
    index.add([post(i) for i in range(10)])
    assert sorted(cluster.docs["patrol-posts-v1"]) == sorted(f"p{i}" for i in range(10))
    assert sorted(cluster.writes) == sorted(f"p{i}" for i in range(10))   # once each
    assert sum(c.endswith(" /_bulk") for c in cluster.calls) == 2                        # the batch, then the busy half
    index.close()


def test_a_cluster_dropping_the_connection_mid_bulk_loses_nothing_through_the_spool(cluster, tmp_path):
    from search.spool import SpooledIndex

    spool = SpooledIndex(lambda: open_index(cluster), tmp_path / "spool.sqlite")
    spool.add([post(i) for i in range(4)])
    cluster.mode = "drop"
    spool.add([post(i) for i in range(4, 12)])        # p4..p7 reach the cluster, then it drops
    spool.set_status("p5", "claimed")
    assert spool.pending() == 9
    cluster.mode = "ok"
    assert spool.replay() == 9
    assert spool.pending() == 0
    docs = cluster.docs["patrol-posts-v1"]
    assert sorted(docs) == sorted(f"p{i}" for i in range(12))
    assert docs["p5"]["status"] == "claimed"          # the status after the add, in order
    spool.close()
