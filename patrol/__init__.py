"""Patrol's core: settings, the domain (posts, alerts, reviews, audit), ingest, the workflow store,
the composition root and the command line. It knows nothing of HTTP or Scrapy."""
__version__ = "0.1.0"
