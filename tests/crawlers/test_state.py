"""Incremental crawl state lives in the workflow database: crawlers sharing it share the state."""
from patrol.settings import Settings

from crawlers.state import CrawlState


def test_state_saved_by_one_crawler_is_loaded_by_another_on_the_same_database(tmp_path):
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'shared.db'}")
    host_a, host_b = CrawlState.open(settings), CrawlState.open(settings)
    try:
        assert host_b.load("city-forum") == {}
        host_a.save("city-forum", {"etag": "W/\"42\"", "seen": ["t1", "t2"]})
        assert host_b.load("city-forum") == {"etag": "W/\"42\"", "seen": ["t1", "t2"]}
        host_b.save("city-forum", {"etag": "W/\"43\""})
        assert host_a.load("city-forum") == {"etag": "W/\"43\""}
    finally:
        host_a.close()
        host_b.close()
