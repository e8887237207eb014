"""sources.yaml entries for a running DemoSite: one discuz source per board and the news feed."""
from __future__ import annotations

from demosite.server import DemoSite

# The demo town, 临江, is a real county-level city: its forum and paper place what names no place.
DEMO_PLACE = "吉林省白山市临江市"
BOARD_SOURCE_NAMES = {2: "demo-city", 36: "demo-market", 41: "demo-food", 52: "demo-heart"}


def demo_sources(site: DemoSite, interval: str = "15m", max_pages: int = 20) -> list[dict]:
    entries = []
    for fid in site.catalogue.boards:
        entries.append({
            "name": BOARD_SOURCE_NAMES.get(fid, f"demo-board-{fid}"),
            "kind": "discuz",
            "url": site.board_url(fid),
            "interval": interval,
            "max_pages": max_pages,
            "place": DEMO_PLACE,
        })
    entries.append({"name": "demo-news", "kind": "rss", "url": site.feed_url, "interval": interval, "max_pages": max_pages,
                    "place": DEMO_PLACE})
    return entries
