"""The ingest step with the real analyzer, a real SQLite store and a real FTS5 index."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from nlp.analyzer import Analyzer
from patrol.alerts import load_rules
from patrol.ingest import Ingestor, read_jsonl_posts
from patrol.posts import RawPost
from patrol.store import Store
from search.index import IndexUnavailable, SearchQuery
from search.sqlite_index import SqliteIndex

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)

GAMBLING = "菠菜平台加拿大28，上分下分秒到账，回水高，加薇信 bc8888 带你飞"
CLEAN = "今天去人民公园散步，银杏叶全黄了，拍了好多照片，推荐大家周末去看看。"


def raw(external_id: str, text: str, title: str = "", source: str = "city-forum") -> RawPost:
    return RawPost(source=source, url=f"http://127.0.0.1/t/{external_id}", external_id=external_id,
                   text=text, title=title, published_at=NOW, fetched_at=NOW, content_sha256="ab" * 32)


class DownIndex:
    """An index whose backend is down: every write fails the way ElasticIndex/SqliteIndex signal it."""

    def add(self, posts):
        raise IndexUnavailable("connection refused")


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer.default()


@pytest.fixture
def parts(tmp_path, analyzer):
    store = Store(f"sqlite:///{tmp_path / 'patrol.db'}")
    index = SqliteIndex(tmp_path / "index.sqlite")
    yield store, index, Ingestor(store, index, analyzer, load_rules(), clock=lambda: NOW)
    index.close()
    store.close()


def test_a_harmful_post_is_stored_indexed_and_raises_one_alert(parts):
    store, index, ingestor = parts
    report = ingestor.ingest([raw("1", GAMBLING), raw("2", CLEAN)])
    assert (report.new, report.alerts_opened, report.indexed) == (2, 1, 2)
    assert sum(report.alerts_by_category.values()) == 1
    page = store.list_alerts()
    assert len(page.items) == 1 and "gambling" in page.items[0].labels
    assert page.items[0].text == GAMBLING and page.items[0].content_sha256 == "ab" * 32
    assert index.search(SearchQuery(q="加拿大28")).total == 1


def test_the_same_post_crawled_twice_is_one_post_and_one_alert(parts):
    store, index, ingestor = parts
    ingestor.ingest([raw("1", GAMBLING)])
    again = ingestor.ingest([raw("1", GAMBLING), raw("1", GAMBLING)])
    assert (again.new, again.unchanged, again.duplicates_in_batch, again.alerts_opened) == (0, 1, 1, 0)
    assert len(store.list_alerts().items) == 1
    assert index.count() == 1


def test_an_edited_post_is_a_new_version_of_the_same_post(parts):
    store, index, ingestor = parts
    ingestor.ingest([raw("7", CLEAN)])
    report = ingestor.ingest([raw("7", CLEAN + "（已编辑）")])
    assert (report.new, report.edited) == (0, 1)
    post = store.get_post(raw("7", CLEAN).id)
    assert post.version == 2 and post.text.endswith("（已编辑）")
    assert index.count() == 1


def test_posts_survive_an_index_outage_and_are_indexed_later(tmp_path, analyzer):
    store = Store(f"sqlite:///{tmp_path / 'patrol.db'}")
    down = Ingestor(store, DownIndex(), analyzer, load_rules(), clock=lambda: NOW)
    report = down.ingest([raw("1", GAMBLING), raw("2", CLEAN)])
    assert (report.new, report.indexed, report.index_pending) == (2, 0, 2)
    assert len(store.list_alerts().items) == 1  # the alert does not wait for the index

    index = SqliteIndex(tmp_path / "index.sqlite")
    back = Ingestor(store, index, analyzer, load_rules(), clock=lambda: NOW)
    assert back.reindex_pending() == 2
    assert index.count() == 2 and store.unindexed_post_ids() == []
    index.close()


def test_ingest_jsonl_reports_bad_lines_by_number_and_keeps_the_rest():
    lines = [(1, '{"source": "s", "url": "http://x/1", "text": "你好"}'),
             (2, "not json"),
             (3, '{"source": "s", "url": "http://x/3"}'),
             (4, '{"source": "s", "url": "http://x/4", "text": "好", "published_at": "yesterday"}'),
             (5, '{"source": "s", "url": "http://x/5", "text": "再见", "published_at": "2026-11-20T10:00:00+08:00"}')]
    errors: list[str] = []
    posts = list(read_jsonl_posts(lines, "in.jsonl", errors.append))
    assert [p.url for p in posts] == ["http://x/1", "http://x/5"]
    assert [e.split(":")[1] for e in errors] == ["2", "3", "4"]
    assert "text" in errors[1] and "published_at" in errors[2]
    assert posts[1].published_at.utcoffset().total_seconds() == 8 * 3600


def test_searching_the_real_word_finds_a_post_that_spells_it_evasively_and_marks_the_spelling(parts):
    store, index, ingestor = parts
    ingestor.ingest([raw("9", "正规菠.菜老平台，天天返水", title="推荐"), raw("10", CLEAN)])
    (hit,) = index.search(SearchQuery(q="博彩")).hits
    assert hit.id == raw("9", "").id
    assert hit.highlights == ("正规<mark>菠.菜</mark>老平台，天天返水",)
    assert hit.matched_normalised
    assert index.get(hit.id).normalised == "推荐\n正规博彩老平台，天天返水"


def test_text_no_database_can_keep_is_cleaned_before_analysis_and_stored_on_every_backend(db_url, analyzer, tmp_path):
    # PostgreSQL refuses NUL characters, and a lone surrogate is not UTF-8 at all: either one used
    # to fail the whole batch. The post is kept, without them, the same on both backends.
    store = Store(db_url, password_rounds=4)
    index = SqliteIndex(tmp_path / "index.sqlite")
    ingestor = Ingestor(store, index, analyzer, load_rules(), clock=lambda: NOW)
    report = ingestor.ingest([raw("n1", "出冰\x00，同城面交，加薇", title="标题\ud800"), raw("n2", CLEAN)])
    assert (report.new, report.alerts_opened, report.indexed) == (2, 1, 2)
    post = store.get_post(raw("n1", "").id)
    assert (post.title, post.text) == ("标题\ufffd", "出冰，同城面交，加薇")
    (alert,) = store.list_alerts().items
    assert alert.text == post.text
    index.close()
    store.close()


def test_an_index_that_cannot_be_opened_costs_the_indexing_not_the_posts(tmp_path, analyzer):
    from app.bootstrap import build_services
    from patrol.settings import Settings

    settings = Settings(home=tmp_path, database_url=None, elasticsearch_url=None)
    settings.index_path.write_bytes(b"not an index " * 1000)  # a corrupt file where the index lives
    services = build_services(settings)
    services.__dict__["analyzer"] = analyzer
    report = services.ingestor.ingest([raw("1", GAMBLING), raw("2", CLEAN)])
    assert (report.new, report.alerts_opened, report.indexed, report.index_pending) == (2, 1, 0, 2)
    assert sorted(services.store.unindexed_post_ids()) == sorted([raw("1", "").id, raw("2", "").id])

    settings.index_path.unlink()  # the operator moves the broken file away
    assert services.ingestor.reindex_pending() == 2
    assert services.index.count() == 2 and services.store.unindexed_post_ids() == []
    services.close()


def test_reindex_while_the_index_is_down_says_why_and_keeps_the_posts_marked(tmp_path, analyzer):
    store = Store(f"sqlite:///{tmp_path / 'patrol.db'}", password_rounds=4)
    down = Ingestor(store, DownIndex(), analyzer, load_rules(), clock=lambda: NOW)
    down.ingest([raw("1", CLEAN)])
    with pytest.raises(IndexUnavailable, match="connection refused"):
        down.reindex_pending()
    assert store.unindexed_post_ids() == [raw("1", "").id]


def test_posts_indexed_after_an_outage_carry_their_alerts_current_status(tmp_path, analyzer):
    store = Store(f"sqlite:///{tmp_path / 'patrol.db'}", password_rounds=4)
    store.add_user("li", "officer", "li-password-1")
    Ingestor(store, DownIndex(), analyzer, load_rules(), clock=lambda: NOW).ingest([raw("1", GAMBLING), raw("2", CLEAN)])
    (alert,) = store.list_alerts().items
    store.claim(alert.id, "li", NOW)

    index = SqliteIndex(tmp_path / "index.sqlite")
    Ingestor(store, index, analyzer, load_rules(), clock=lambda: NOW).reindex_pending()
    assert index.get(raw("1", "").id).status == "claimed"
    assert index.get(raw("2", "").id).status == ""
    index.close()


@pytest.mark.parametrize("line, problem", [
    ('{"source": "s", "url": "http://x/1", "text": "t", "published_at": "0001-01-01T00:00:00+08:00"}', "published_at"),
    ('{"source": "%s", "url": "http://x/1", "text": "t"}' % ("s" * 201), "source is longer than 200"),
    ("[" * 100_000, "not JSON"),
])
def test_ingest_jsonl_refuses_what_the_store_cannot_keep_line_by_line(line, problem):
    errors: list[str] = []
    assert list(read_jsonl_posts([(7, line)], "in.jsonl", errors.append)) == []
    assert len(errors) == 1 and errors[0].startswith("in.jsonl:7:") and problem in errors[0]
