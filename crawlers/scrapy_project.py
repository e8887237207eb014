"""Settings module for the `scrapy` command line (scrapy.cfg), built from Patrol's Settings."""
from crawlers.settings import scrapy_settings
from patrol.settings import Settings

globals().update(scrapy_settings(Settings()))
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"
