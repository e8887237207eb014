"""Patrol's core: settings, the domain (posts, alerts, reviews, audit, users, taxonomy), ingest and
the workflow store. It knows nothing of HTTP, Scrapy or the command line: those adapters, and the
composition root that wires them to the core, live in app/, api/ and crawlers/."""
__version__ = "0.1.0"
