"""`patrol demo`: the main job end to end on embedded defaults, with no internet.

Starts the bundled demo site on loopback, crawls it with the real spiders, classifies, indexes and
raises alerts into the stores under PATROL_HOME, creates the demo officer, and serves the API and
console. The demo user exists only here, and only when serving on loopback.
"""
from __future__ import annotations

import ipaddress
import socket
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from app.bootstrap import Services

DEMO_USER = "demo"
DEMO_PASSWORD = "demo"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class DemoReport:
    pages: int = 0
    items: int = 0
    parse_errors: int = 0
    new_posts: int = 0
    deleted_upstream: int = 0
    alerts_opened: int = 0
    alerts_by_category: Counter = field(default_factory=Counter)
    per_source: dict[str, int] = field(default_factory=dict)
    events: int = 0     # events of 2+ posts after the crawl
    bursts: int = 0     # bursts that raised a trend alert

    def lines(self) -> list[str]:
        out = [f"crawled {self.pages} page(s), {self.items} post(s) found, {self.parse_errors} page(s) failed to parse",
               f"{self.new_posts} new post(s) stored and indexed ({self.deleted_upstream} already deleted upstream), "
               f"{self.alerts_opened} alert(s) opened"]
        out += [f"  {cat:<16} {n}" for cat, n in sorted(self.alerts_by_category.items(), key=lambda kv: -kv[1])]
        return out


def crawl_demo_site(services: Services, base_site) -> DemoReport:
    """One crawl pass over every source of a running DemoSite, ingesting into `services`, with
    each source's pass recorded as `patrol crawl` records it (the console's 信源 page reads it)."""
    from datetime import datetime, timezone

    from crawlers.health import record_report
    from crawlers.runner import run_crawl
    from crawlers.sources import parse_sources
    from demosite.sources import demo_sources

    sources = parse_sources({"sources": demo_sources(base_site)}, "<demo sources>")
    services.events.source_places.update({s.name: s.place for s in sources if s.place})
    crawl = run_crawl(services.settings, sources, services.ingestor.ingest)
    record_report(services.store, crawl, datetime.now(timezone.utc), services.settings.crawl.health_alert_after)
    report = DemoReport(pages=crawl.pages_fetched, items=crawl.items, parse_errors=crawl.parse_errors)
    for r in crawl.ingest_reports:
        report.new_posts += r.new
        report.deleted_upstream += r.deleted
        report.alerts_opened += r.alerts_opened
        report.alerts_by_category.update(r.alerts_by_category)
        report.bursts += len(r.events.bursts) if r.events else 0
    report.per_source = {name: s.items for name, s in crawl.sources.items()}
    from patrol.events.store import EventFilter

    report.events = services.store.events.list_events(EventFilter(min_size=2, limit=1))[1]
    return report


def ensure_port_free(host: str, port: int) -> None:
    """Fail before crawling, not after, when something already listens where the console would."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ValueError(f"{host}:{port} is already in use ({exc.strerror}); "
                             f"stop what runs there or choose another port with --port") from None


def ensure_demo_user(services: Services, host: str) -> None:
    if not is_loopback(host):
        raise ValueError(f"the demo user is created only on loopback, not on {host!r}")
    user = services.store.get_user(DEMO_USER)
    if user is None:
        services.store.add_user(DEMO_USER, "officer", DEMO_PASSWORD)
    elif not user.active:  # retired by an earlier `patrol serve`: the demo brings it back
        services.store.set_user(DEMO_USER, "system", datetime.now(timezone.utc), active=True)


class ServeRefused(ValueError):
    """`patrol serve` will not start as asked; the message says why and what to do."""


def prepare_serve(services: Services, host: str, echo: Callable[[str], None]) -> None:
    """Before `patrol serve` (not the demo) starts: the demo user, if a demo ever ran in this
    home, is disabled (its password is public), and a non-loopback address is refused while any
    active account still has a well-known default password."""
    store = services.store
    demo_user = store.get_user(DEMO_USER)
    if demo_user is not None and demo_user.active:
        store.set_user(DEMO_USER, "system", datetime.now(timezone.utc), active=False)
        echo(f"disabled the demo user {DEMO_USER!r}: it exists only while `patrol demo` runs")
    weak = store.active_default_password_users()
    if weak and not is_loopback(host):
        raise ServeRefused(
            f"refusing to serve on {host}: these active accounts have a well-known default password: "
            f"{', '.join(weak)}. Set a new one (`patrol users reset-password NAME`) or disable them "
            "(`patrol users disable NAME`), or serve on loopback.")


def run_demo(services: Services, host: str, port: int, echo: Callable[[str], None],
             serve: Callable[[Services, str, int], None]) -> DemoReport:
    from demosite.server import DemoSite

    if not is_loopback(host):
        raise ValueError(f"patrol demo serves only on loopback (127.0.0.1, ::1, localhost), not {host!r}")
    ensure_port_free(host, port)
    with DemoSite() as site:
        echo(f"demo site on {site.base_url} (Discuz! forum and news feed); crawling it…")
        report = crawl_demo_site(services, site)
        for line in report.lines():
            echo(line)
        echo(f"events: {report.events} with 2+ posts, {report.bursts} burst(s) raised a trend alert "
             f"(console: /console/events)")
        ensure_demo_user(services, host)
        echo(f"console: http://{host}:{port}/   login: {DEMO_USER} / {DEMO_PASSWORD} (officer)   API docs: http://{host}:{port}/docs")
        serve(services, host, port)
    return report
