"""What only the tantivy index has to get right: its directory, its bulk loads, its cursors, and the
bounded totals and facets (the contract suite checks the behaviour both embedded indexes share)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from search.index import BadCursor, IndexedPost, IndexUnavailable, InvalidSearch, SearchQuery, TOTAL_CAP
from search.tantivy_index import LAYOUT_VERSION, MAX_OFFSET, TantivyIndex, sample_bucket

UTC = timezone.utc
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def post(i: int, text: str = "博彩网站", **kw) -> IndexedPost:
    published = kw.pop("published", T0 + timedelta(seconds=i))
    return IndexedPost(id=f"p{i}", source=kw.pop("source", "blog"), url=f"https://example.cn/{i}", title=f"标题{i}",
                       text=text, author="a", published_at=published, fetched_at=published, **kw)


def test_a_directory_that_is_not_a_patrol_index_is_refused_untouched(tmp_path):
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "notes.txt").write_text("mine")
    with pytest.raises(IndexUnavailable, match="not a Patrol search index"):
        TantivyIndex(tmp_path / "idx")
    assert [p.name for p in (tmp_path / "idx").iterdir()] == ["notes.txt"]


def test_an_index_of_a_newer_layout_is_refused(tmp_path):
    TantivyIndex(tmp_path / "idx").close()
    (tmp_path / "idx" / "patrol-layout.json").write_text(f'{{"version": {LAYOUT_VERSION + 1}}}')
    with pytest.raises(IndexUnavailable, match="newer Patrol"):
        TantivyIndex(tmp_path / "idx")


def test_a_file_where_the_index_directory_should_be_is_reported_with_its_path(tmp_path):
    (tmp_path / "idx").write_bytes(b"not an index")
    with pytest.raises(IndexUnavailable, match="idx"):
        TantivyIndex(tmp_path / "idx")


def test_a_closed_index_says_so(tmp_path):
    index = TantivyIndex(tmp_path / "idx")
    index.close()
    with pytest.raises(IndexUnavailable, match="closed"):
        index.count()


def test_posts_survive_reopening(tmp_path):
    index = TantivyIndex(tmp_path / "idx")
    index.add([post(1), post(2, "今天天气")])
    index.close()
    again = TantivyIndex(tmp_path / "idx")
    assert again.count() == 2
    assert [h.id for h in again.search(SearchQuery(q="天气")).hits] == ["p2"]


def test_a_bulk_load_becomes_searchable_at_its_end_and_every_commit_every_posts(tmp_path):
    index = TantivyIndex(tmp_path / "idx")
    with index.bulk(commit_every=100):
        index.add([post(i) for i in range(60)])
        assert index.count() == 0  # not committed yet
        index.add([post(i) for i in range(60, 120)])
        assert index.count() == 120  # passed commit_every: committed
        index.add([post(120)])
        index.set_status("p5", "open")  # a status change is committed at once, with what came before
        assert index.get("p5").status == "open" and index.count() == 121
        index.add([post(121)])
    assert index.count() == 122


def test_a_failing_bulk_block_still_commits_what_was_added(tmp_path):
    index = TantivyIndex(tmp_path / "idx")
    with pytest.raises(RuntimeError, match="boom"):
        with index.bulk():
            index.add([post(1), post(2)])
            raise RuntimeError("boom")
    assert index.count() == 2


def test_later_pages_leave_out_posts_written_after_the_first(tmp_path):
    index = TantivyIndex(tmp_path / "idx")
    index.add([post(i) for i in range(30)])
    first = index.search(SearchQuery(q="博彩", limit=10))
    index.add([post(i) for i in range(100, 130)])  # 30 newer matches arrive while the officer reads
    seen = [h.id for h in first.hits]
    cursor = first.next_cursor
    while cursor:
        page = index.search(SearchQuery(q="博彩", limit=10, cursor=cursor))
        seen.extend(h.id for h in page.hits)
        cursor = page.next_cursor
    assert sorted(seen) == sorted(f"p{i}" for i in range(30))


def test_a_cursor_of_the_sqlite_index_is_refused_with_a_clear_message(tmp_path):
    from search.sqlite_index import SqliteIndex

    old = SqliteIndex(tmp_path / "old.db")
    old.add([post(i) for i in range(3)])
    cursor = old.search(SearchQuery(q="博彩", limit=1)).next_cursor
    index = TantivyIndex(tmp_path / "idx")
    index.add([post(i) for i in range(3)])
    with pytest.raises(BadCursor, match="does not fit this index"):
        index.search(SearchQuery(q="博彩", limit=1, cursor=cursor))


def test_paging_deeper_than_the_window_is_refused_with_advice(tmp_path, monkeypatch):
    from search import cursor as cursors

    index = TantivyIndex(tmp_path / "idx")
    index.add([post(i) for i in range(3)])
    query = SearchQuery(q="博彩", limit=1)
    deep = cursors.encode(query, ["tantivy", MAX_OFFSET + 1, 1])
    with pytest.raises(InvalidSearch, match="narrow the search"):
        index.search(SearchQuery(q="博彩", limit=1, cursor=deep))


def test_totals_past_the_cap_cost_a_sample_not_every_match(tmp_path, monkeypatch):
    """The count stops at the smallest sample of id buckets holding TOTAL_CAP matches: it never
    counts all 5 × TOTAL_CAP matches here, and its facets are the sample's, scaled up."""
    import search.tantivy_index as module

    index = TantivyIndex(tmp_path / "idx")
    with index.bulk():
        index.add([post(i, source=("blog", "forum")[i % 2]) for i in range(5 * TOTAL_CAP)])
    counted: list[int] = []
    real = module._count
    monkeypatch.setattr(module, "_count", lambda s, q: counted.append(real(s, q)) or counted[-1])
    result = index.search(SearchQuery(q="博彩"))
    assert (result.total, result.total_relation, result.facets_estimated) == (TOTAL_CAP, "gte", True)
    assert TOTAL_CAP <= counted[-1] <= 2.5 * TOTAL_CAP  # a sample: about a quarter of the matches
    assert all(abs(n - 2.5 * TOTAL_CAP) <= 0.05 * 2.5 * TOTAL_CAP for n in result.facets["source"].values())
    exact = index.search(SearchQuery(q="博彩", published_to=T0 + timedelta(seconds=5000)))
    assert (exact.total, exact.total_relation, exact.facets_estimated) == (5000, "eq", False)
    assert exact.facets["source"] == {"blog": 2500, "forum": 2500}


def test_sample_buckets_spread_ids_evenly():
    counts: dict[str, int] = {}
    for i in range(64_000):
        b = sample_bucket(f"post-{i}")
        counts[b] = counts.get(b, 0) + 1
    assert len(counts) == 64
    assert max(counts.values()) < 1.1 * 1000 and min(counts.values()) > 0.9 * 1000


def test_a_writer_held_elsewhere_is_waited_for_then_reported(tmp_path):
    loader = TantivyIndex(tmp_path / "idx")
    other = TantivyIndex(tmp_path / "idx", lock_timeout=0.3)
    with loader.bulk():
        loader.add([post(1)])
        with pytest.raises(IndexUnavailable, match="cannot write to the search index"):
            other.add([post(2)])
    other.add([post(2)])  # the writer is free again once the bulk load ends
    assert other.count() == 2 and loader.count() == 2


# ---------------------------------------------------------------- stable pages, newest first, layouts

def _all_pages(index, q: str, limit: int, between=None) -> list[str]:
    """Every hit of q, page by page; `between(page_number)` runs after each page (to move documents)."""
    seen, cursor, n = [], None, 0
    while True:
        result = index.search(SearchQuery(q=q, limit=limit, cursor=cursor))
        seen.extend(h.id for h in result.hits)
        n += 1
        if between is not None:
            between(n)
        cursor = result.next_cursor
        if cursor is None:
            return seen


def test_equal_scores_page_in_one_order_even_when_documents_move_between_pages(tmp_path):
    from search.tantivy_paging import id_order

    index = TantivyIndex(tmp_path / "idx")
    for i in range(13):  # one commit each: 13 segments, the same words and time, so the same score
        index.add([post(i, "博彩网站 返水", published=T0)])
    ids = [f"p{i}" for i in range(13)]

    def move(page_number: int) -> None:
        # Rewriting a document (as an officer's decision does) gives it a new address, in a new
        # segment: tantivy's own tie order (by address) changes under the pager.
        for i in reversed(range(13)):
            index.set_status(f"p{i}", "open" if page_number % 2 else "")

    paged = _all_pages(index, "博彩", 4, between=move)
    assert sorted(paged) == sorted(ids) and len(paged) == len(set(paged)), paged  # none repeated, none skipped
    assert paged == sorted(ids, key=id_order)  # ties (same time too) in the fixed order of the id's hash
    assert len({h.score for h in index.search(SearchQuery(q="博彩", limit=20)).hits}) == 1  # they did tie


def test_a_tie_group_larger_than_the_first_fetch_is_still_cut_in_id_order(tmp_path):
    from search.tantivy_paging import FIRST_FETCH, id_order

    index = TantivyIndex(tmp_path / "idx")
    n = FIRST_FETCH * 3
    for start in range(0, n, 16):
        index.add([post(i, "刷单兼职", published=T0) for i in range(start, min(n, start + 16))])
    assert _all_pages(index, "刷单", 50) == sorted((f"p{i}" for i in range(n)), key=id_order)


def test_equal_scores_rank_newest_first_then_by_id(tmp_path):
    from search.tantivy_paging import id_order

    index = TantivyIndex(tmp_path / "idx")
    posts = [post(i, "博彩网站", published=T0 + timedelta(minutes=i % 3)) for i in range(9)]
    index.add(posts)
    expected = [p.id for p in sorted(posts, key=lambda p: (-p.published_at.timestamp(), id_order(p.id)))]
    assert _all_pages(index, "博彩", 2) == expected


def test_newest_first_pages_match_a_full_sort_with_or_without_a_rare_filter(tmp_path):
    from search.tantivy_paging import id_order

    index = TantivyIndex(tmp_path / "idx")
    posts = [post(i, "博彩网站", published=T0 + timedelta(hours=(i * 7919) % 500),  # shuffled times, some equal
                  source="rare" if i % 97 == 0 else "blog") for i in range(600)]
    index.add(posts)
    expected = [p.id for p in sorted(posts, key=lambda p: (-p.published_at.timestamp(), id_order(p.id)))]
    assert _all_pages(index, "", 100) == expected
    rare = [p for p in posts if p.source == "rare"]  # matches only old-and-new scattered posts: the window widens
    result = index.search(SearchQuery(q="source:rare", limit=3))
    assert [h.id for h in result.hits] == [p.id for p in sorted(rare, key=lambda p: (-p.published_at.timestamp(),
                                                                                     id_order(p.id)))][:3]


def test_a_layout_1_index_still_answers_phrases_like_a_layout_2_one(tmp_path, monkeypatch):
    from bench.search_bench import synthetic_posts
    import search.tantivy_index as tantivy_index

    posts = synthetic_posts(1500)
    monkeypatch.setattr(tantivy_index, "LAYOUT_VERSION", 1)
    old = TantivyIndex(tmp_path / "old")
    old.add(posts)
    old.close()
    monkeypatch.undo()
    old, new = TantivyIndex(tmp_path / "old"), TantivyIndex(tmp_path / "new")
    new.add(posts)
    assert (old.pairs, new.pairs) == (False, True)
    for q in ('"博彩 网站"', "今天天气", '"网站 返水"', "天气不错", '"微信 联系"', "今天天气 -博彩"):
        a, b = (set(_all_pages(i, q, 100)) for i in (old, new))
        assert a == b, q
    assert len(_all_pages(new, "今天天气", 100)) > 50  # the phrases did find posts


def test_a_bulk_load_with_worker_processes_indexes_what_one_process_would(tmp_path):
    from bench.search_bench import synthetic_posts

    posts = synthetic_posts(900)
    alone, workers = TantivyIndex(tmp_path / "alone"), TantivyIndex(tmp_path / "workers")
    with alone.bulk():
        for i in range(0, len(posts), 200):
            alone.add(posts[i:i + 200])
    with workers.bulk(workers=2):
        for i in range(0, len(posts), 200):
            workers.add(posts[i:i + 200])
    assert workers.count() == alone.count() == 900
    for q in ("博彩", '"博彩 网站"', "今天天气", "哈尔滨", ""):
        assert _all_pages(alone, q, 100) == _all_pages(workers, q, 100), q
    with workers.bulk(workers=2):  # a later version of a post, queued behind its first, replaces it
        workers.add([posts[1]])
        workers.add([replace(posts[1], text="刷单兼职日赚")])
    assert workers.count() == 900 and workers.get(posts[1].id).text == "刷单兼职日赚"


def test_a_rebuild_with_worker_processes_replaces_the_content(tmp_path):
    from bench.search_bench import synthetic_posts

    index = TantivyIndex(tmp_path / "idx")
    index.add([post(1, "旧的内容")])
    posts = synthetic_posts(500)
    assert index.rebuild((posts[i:i + 100] for i in range(0, 500, 100)), "store-1", workers=2) == 500
    assert index.count() == 500 and index.get("p1") is None and index.identity() == "store-1"
    assert index.search(SearchQuery(q="博彩", facets=False)).total > 0


def test_a_bulk_load_that_never_reached_its_last_commit_is_reported_until_a_rebuild(tmp_path, caplog):
    import multiprocessing

    index = TantivyIndex(tmp_path / "idx")
    with index.bulk():
        assert not index.interrupted_bulk_load()  # ours, running
        index.add([post(1)])
    assert not index.interrupted_bulk_load()  # ended with its commit
    # A process killed inside its bulk block: the key stays, the writer lock goes with the process.
    child = multiprocessing.get_context("spawn").Process(target=_die_inside_a_bulk_load, args=(str(tmp_path / "idx"),))
    child.start()
    child.join(60)
    assert child.exitcode == 9
    again = TantivyIndex(tmp_path / "idx")
    assert again.interrupted_bulk_load() and "patrol reindex --full" in caplog.text
    assert again.get("p2") is None and again.get("p1") is not None  # the lost post, the committed one
    again.rebuild([[post(1), post(2)]], "store-1")
    assert not again.interrupted_bulk_load() and again.get("p2") is not None


def _die_inside_a_bulk_load(path: str) -> None:
    import os

    index = TantivyIndex(path)
    with index.bulk():
        index.add([post(2)])
        os._exit(9)


def test_bulk_writes_commits_every_so_many_posts_and_lets_the_writer_go_between(tmp_path):
    from search.index import bulk_writes
    from search.sqlite_index import SqliteIndex

    index = TantivyIndex(tmp_path / "idx")
    other = TantivyIndex(tmp_path / "idx", lock_timeout=2)  # another process's handle (serve), same directory
    with bulk_writes(lambda: index, commit_every=3):
        index.add([post(1), post(2)])
        assert other.search(SearchQuery(q="博彩")).total == 0  # not committed yet
        index.add([post(3)])
        assert other.search(SearchQuery(q="博彩")).total == 3  # the third post reached commit_every
        other.set_status("p1", "open")  # the writer was let go at that commit: this does not wait it out
        index.add([post(4)])
    assert other.search(SearchQuery(q="博彩")).total == 4 and other.get("p1").status == "open"
    with bulk_writes(lambda: SqliteIndex(tmp_path / "s.db")) as nothing:  # no bulk(): plain writes
        assert nothing is None

    def broken():
        raise IndexUnavailable("down")
    with bulk_writes(broken):  # the calls inside report an index that is down, as they always did
        pass
