"""Prometheus metrics. Each app has its own registry so that several apps in one process (tests,
a demo beside a server) never collide on metric names."""
from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.requests import Request

log = logging.getLogger("patrol.api")


class StoreCollector:
    """Reads alert and post counts from the store at scrape time: the store is the system of
    record, so the numbers are right even with several API workers."""

    def __init__(self, services):
        self._services = services

    def collect(self):
        try:
            counts = self._services.store.counts()
        except Exception:  # a scrape must not fail because the database hiccups
            log.warning("metrics: store counts unavailable", exc_info=True)
            return
        posts = GaugeMetricFamily("patrol_posts", "Posts in the workflow database")
        posts.add_metric([], float(counts.get("posts", 0)))
        yield posts
        by_status = GaugeMetricFamily("patrol_alerts_by_status", "Alert cases (a group counts once) by review status", labels=["status"])
        for status, n in sorted((counts.get("alerts_by_status") or {}).items()):
            by_status.add_metric([str(status)], float(n))
        yield by_status
        by_cat = GaugeMetricFamily("patrol_alerts_by_category", "Alert cases (a group counts once) by primary category", labels=["category"])
        for cat, n in sorted((counts.get("alerts_by_category") or {}).items()):
            by_cat.add_metric([str(cat)], float(n))
        yield by_cat


class ApiMetrics:
    def __init__(self, services):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "patrol_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "patrol_http_request_seconds", "HTTP request latency", ["method", "route"], registry=self.registry
        )
        self.registry.register(StoreCollector(services))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def record(self, request: Request, call_next):
        """HTTP middleware: count and time every request by its route template."""
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = _route_template(request)
            self.requests.labels(request.method, route, str(status)).inc()
            self.latency.labels(request.method, route).observe(time.perf_counter() - start)


def _route_template(request: Request) -> str:
    """The matched route's path template ("/api/alerts/{alert_id}"), never the raw path: raw
    paths would give every alert id its own time series. The router leaves the route it picked
    in the scope."""
    route = request.scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else "unmatched"
