"""The crawling adapter: Scrapy spiders per source kind, the pipelines that hand posts to the core,
and the runner that does one pass over the configured sources."""
