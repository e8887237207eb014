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
from search.sqlite_index import SqliteIndex
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
    "博彩 {title body}:网站", "a OR (b -c) -(d OR \"e f\")",
])
def test_fts_expressions_hold_only_quoted_tokens_and_our_own_operators(q):
    try:
        root = parse(q).root
    except Exception:
        return  # refused before reaching SQLite
    match = plan(root).match
    if match is None:
        return
    stripped = re.sub(r'"[^\W_]+(?: [^\W_]+)*"', "T", match)
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
