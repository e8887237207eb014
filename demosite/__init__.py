"""A bundled demo site of realistic Chinese public posts (a Discuz! forum and a news feed),
served on loopback so that `patrol demo` and the tests can crawl something real without internet."""
from demosite.server import DemoSite

__all__ = ["DemoSite"]
