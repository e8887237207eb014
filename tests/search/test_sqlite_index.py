"""What only the SQLite index has to get right: its file, its rowids, its threads and processes, and
the FTS5 expressions it builds."""
from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from search.index import IndexedPost, IndexUnavailable, SearchQuery
from search.query import parse
from search.sqlite_index import SCHEMA_VERSION, SqliteIndex
from search.sqlite_query import SLOT_BITS, plan

UTC = timezone.utc
REPO = Path(__file__).resolve().parents[2]


def post(i: int, published: datetime, text: str = "博彩网站") -> IndexedPost:
    return IndexedPost(id=f"p{i}", source="blog", url=f"https://example.cn/{i}", title=f"标题{i}", text=text,
                       author="a", published_at=published, fetched_at=published)


def test_a_file_that_is_not_a_database_is_reported_as_unavailable_with_its_path(tmp_path):
    path = tmp_path / "index.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(IndexUnavailable) as caught:
        SqliteIndex(path)
    assert str(path) in str(caught.value)
    assert "not a database" in str(caught.value)


def test_a_path_that_cannot_be_opened_is_reported_as_unavailable(tmp_path):
    (tmp_path / "index.db").mkdir()
    with pytest.raises(IndexUnavailable, match="index.db"):
        SqliteIndex(tmp_path / "index.db")


def test_a_closed_index_says_so(tmp_path):
    index = SqliteIndex(tmp_path / "index.db")
    index.close()
    with pytest.raises(IndexUnavailable, match="closed"):
        index.count()


def test_missing_parent_directories_are_created(tmp_path):
    index = SqliteIndex(tmp_path / "a" / "b" / "index.db")
    assert index.count() == 0
    index.close()


def test_rowids_follow_publication_time_not_insertion_order(tmp_path):
    index = SqliteIndex(tmp_path / "index.db")
    t = datetime(2026, 11, 1, tzinfo=UTC)
    index.add([post(1, t + timedelta(days=2)), post(2, t), post(3, t), post(4, t + timedelta(days=1))])
    index.close()
    with sqlite3.connect(tmp_path / "index.db") as conn:
        order = [r[0] for r in conn.execute("SELECT id FROM posts ORDER BY rowid")]
        rowids = dict(conn.execute("SELECT id, rowid FROM posts"))
    assert order == ["p2", "p3", "p4", "p1"]
    # Two posts in the same second get neighbouring slots of that second.
    assert rowids["p3"] == rowids["p2"] + 1
    assert rowids["p2"] >> SLOT_BITS == int(t.timestamp())


def test_re_adding_a_post_keeps_its_rowid_and_a_new_post_in_the_same_second_gets_another(tmp_path):
    index = SqliteIndex(tmp_path / "index.db")
    t = datetime(2026, 11, 1, tzinfo=UTC)
    index.add([post(1, t)])
    index.add([post(1, t, text="改过的内容"), post(2, t), post(3, t + timedelta(microseconds=5))])
    index.close()
    with sqlite3.connect(tmp_path / "index.db") as conn:
        rowids = dict(conn.execute("SELECT id, rowid FROM posts"))
    base = int(t.timestamp()) << SLOT_BITS
    assert rowids == {"p1": base, "p2": base + 1, "p3": base + 2}


def test_a_date_filter_is_answered_from_a_rowid_range(tmp_path):
    index = SqliteIndex(tmp_path / "index.db")
    p = plan(parse("博彩 published:>=2026-11-01").root)
    sql = " ".join(p.conditions)
    assert "{rowid} >= ?" in sql
    conn = index._conn()
    detail = " ".join(r[3] for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT post_fts.rowid FROM post_fts JOIN posts p ON p.rowid = post_fts.rowid "
        "WHERE post_fts MATCH ? AND " + sql.format(rowid="post_fts.rowid"), [p.match, *p.params]))
    assert "VIRTUAL TABLE INDEX" in detail and "INTEGER PRIMARY KEY" in detail
    index.close()


@pytest.mark.parametrize("q", [
    '博彩* ^网站 NEAR(a b) "x" OR y:z', "a AND b NOT c", "'; DROP TABLE posts; --", "col:umn", "\"\"\"",
    "博彩 {title body}:网站", "a OR (b -c) -(d OR \"e f\")", '🐧" OR 1 🐧*', "👍🏻^ -(🐧 OR \"加🐧\")",
])
def test_fts_expressions_hold_only_quoted_tokens_and_our_own_operators(q):
    try:
        root = parse(q).root
    except Exception:
        return  # refused before reaching SQLite
    match = plan(root).match
    if match is None:
        return
    stripped = re.sub(r'(?:\{title body norm\} : )?"[^\s"]+(?: [^\s"]+)*"', "T", match)
    assert re.fullmatch(r"[T() ]*(?:(?: AND | OR | NOT |[T() ])*)", stripped), match


def test_readers_in_many_threads_see_a_consistent_index_while_one_writes(tmp_path):
    index = SqliteIndex(tmp_path / "index.db")
    t = datetime(2026, 11, 1, tzinfo=UTC)
    errors: list[BaseException] = []
    done = threading.Event()

    def write():
        try:
            for batch in range(20):
                index.add([post(batch * 10 + i, t + timedelta(minutes=batch * 10 + i)) for i in range(10)])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            done.set()

    def read():
        try:
            while not done.is_set():
                result = index.search(SearchQuery(q="博彩", limit=5))
                assert result.total % 10 == 0  # batches are atomic: never half a batch
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert errors == []
    assert index.count() == 200
    index.close()


def test_another_process_sees_what_this_one_wrote_and_can_write_too(tmp_path):
    path = tmp_path / "index.db"
    index = SqliteIndex(path)
    index.add([post(1, datetime(2026, 11, 1, tzinfo=UTC))])
    script = (
        "import sys; from datetime import datetime, timezone\n"
        "from search.index import IndexedPost, SearchQuery\n"
        "from search.sqlite_index import SqliteIndex\n"
        "ix = SqliteIndex(sys.argv[1])\n"
        "t = datetime(2026, 11, 2, tzinfo=timezone.utc)\n"
        "ix.add([IndexedPost('p2', 'blog', 'u', '标题', '赌博平台', 'a', t, t)])\n"
        "print(ix.search(SearchQuery(q='博彩')).total)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(path)], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
    assert index.search(SearchQuery(q="赌博")).total == 1
    index.close()


V1_SCHEMA = """
CREATE TABLE posts (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL, url TEXT NOT NULL,
    title TEXT NOT NULL, text TEXT NOT NULL, author TEXT NOT NULL, published_at TEXT NOT NULL,
    published_us INTEGER NOT NULL, fetched_at TEXT NOT NULL, primary_category TEXT NOT NULL,
    categories TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE post_category (rowid INTEGER NOT NULL, category TEXT NOT NULL, PRIMARY KEY (rowid, category))
    WITHOUT ROWID;
CREATE VIRTUAL TABLE post_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 0');
PRAGMA user_version = 1;
"""


def test_an_index_in_the_first_layout_is_rebuilt_from_its_posts_on_open(tmp_path):
    path = tmp_path / "index.db"
    t = datetime(2026, 11, 1, tzinfo=UTC)
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA)
        rowid = int(t.timestamp()) << SLOT_BITS
        conn.execute("INSERT INTO posts VALUES (?, 'w', 'blog', 'u', '通知', '今天天气不错', 'a', ?, 0, ?, 'fraud',"
                     " '[\"fraud\"]', 'open')", (rowid, t.isoformat(), t.isoformat()))
        conn.execute("INSERT INTO post_category VALUES (?, 'fraud')", (rowid,))
        conn.execute("INSERT INTO post_fts (rowid, title, body) VALUES (?, '通知', '今天天气 不错')", (rowid,))
    index = SqliteIndex(path)
    assert index.count() == 1
    result = index.search(SearchQuery(q="天气"))  # a sub-word: only the new layout finds it
    assert [h.id for h in result.hits] == ["w"]
    assert result.facets == {"category": {"fraud": 1}, "source": {"blog": 1}}
    assert index.get("w").status == "open"
    index.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_an_index_in_the_second_layout_gains_the_normalised_text_on_open(tmp_path):
    path = tmp_path / "index.db"
    t = datetime(2026, 11, 1, tzinfo=UTC)
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA.replace("PRAGMA user_version = 1", "PRAGMA user_version = 2"))
        conn.execute("INSERT INTO posts VALUES (?, 'w', 'blog', 'u', '通知', '加微信详聊', 'a', ?, 0, ?, 'none',"
                     " '[]', '')", (int(t.timestamp()) << SLOT_BITS, t.isoformat(), t.isoformat()))
    index = SqliteIndex(path)
    assert index.get("w").normalised == ""  # unknown until the post is added again
    assert [h.id for h in index.search(SearchQuery(q="微信")).hits] == ["w"]  # re-segmented
    index.add([IndexedPost("e", "blog", "u", "", "菠菜老平台", "a", t, t, normalised="博彩老平台",
                           normalised_spans=((0, 2, 0, 2),))])
    assert [h.id for h in index.search(SearchQuery(q="博彩")).hits] == ["e"]
    index.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_an_index_written_by_a_newer_version_is_refused_untouched(tmp_path):
    path = tmp_path / "index.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(IndexUnavailable, match="newer"):
        SqliteIndex(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def test_the_kept_facet_counts_match_a_recount_after_adds_replacements_and_moves(tmp_path):
    index = SqliteIndex(tmp_path / "index.db")
    t = datetime(2026, 11, 1, tzinfo=UTC)

    def p(i, source, categories, when=t):
        return IndexedPost(id=f"p{i}", source=source, url="u", title="标题", text="博彩", author="a",
                           published_at=when, fetched_at=when, categories=categories)

    index.add([p(1, "blog", ("fraud",)), p(2, "blog", ()), p(3, "forum", ("fraud", "gambling"))])
    index.add([p(1, "forum", ()), p(2, "blog", (), t + timedelta(days=3)), p(4, "blog", ("gambling",))])
    index.add([p(3, "forum", ("fraud", "gambling"))])  # unchanged re-add
    conn = index._conn()
    kept = sorted(conn.execute("SELECT source, categories, n FROM facet_count"))
    recount = sorted(conn.execute("SELECT source, categories, count(*) FROM posts GROUP BY 1, 2"))
    assert kept == recount
    assert index.count() == 4
    unfiltered = index.search(SearchQuery(q=""))  # answered from the kept counts
    filtered = index.search(SearchQuery(q="", published_from=t - timedelta(days=1)))  # counted row by row
    ranked = index.search(SearchQuery(q="博彩"))  # counted from the matches
    assert unfiltered.facets == filtered.facets == ranked.facets == {
        "category": {"fraud": 1, "gambling": 2}, "source": {"blog": 2, "forum": 2}}
    assert unfiltered.total == filtered.total == ranked.total == 4
    index.close()
