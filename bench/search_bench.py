"""Search index benchmark: bulk insert rate and query latency of SqliteIndex on synthetic Chinese
posts, beside baselines measured in the same run on the same data:

- insert baseline: a plain FTS5 table holding the SAME pre-segmented token columns (words and
  sub-word parts, same tokenizer), filled in the same batches with the same pragmas. What `add()`
  costs beyond it is segmentation (measured on its own) plus our own tables: posts with its
  indexes, categories, facets.
- query baseline: the same FTS5 expression our planner builds, run on that plain table as
  `ORDER BY rank LIMIT 20` plus a count: the bare cost of matching and ranking, without facets,
  highlights, filters or fetching the hits' rows.

The machine is shared, so every figure is given as CPU time of this process (stable under load)
and as wall time (what a user waits, which rises with other work on the machine). SQLite does
all its work in this process, so its CPU time is counted.

    python -m bench.search_bench [n_posts]
"""
from __future__ import annotations

import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from search.index import IndexedPost, SearchQuery
from search.normalised import searchable
from search.query import parse
from search.sqlite_index import SqliteIndex
from search.sqlite_query import plan
from search.tokens import Segmenter

BATCH = 500
REPEATS = 40

_COMMON = ("今天 我们 这个 可以 已经 大家 朋友 公司 城市 时间 问题 工作 生活 学校 孩子 医院 价格 服务 "
           "感觉 发现 觉得 希望 看到 知道 开始 需要 一起 还是 非常 真的 地方 晚上 周末 天气 网上 视频 "
           "消息 活动 社区 小区 物业 停车 交通 地铁 公交 外卖 快递 手机 电脑 游戏 比赛 球队 音乐 电影").split()
# Compounds rjieba keeps whole, whose sub-words are indexed too: 今天天气 and 网络赌博 tile into
# words (今天 天气, 网络 赌博); 哈尔滨市, 大学生 and 科技园 keep theirs as parts (哈尔滨, 学生, 科技).
_COMPOUNDS = "今天天气 哈尔滨市 大学生 科技园 网络赌博".split()
COMPOUND_SHARE = 0.01
_RISK = ("博彩 网站 返水 代理 平台 刷单 兼职 押金 贷款 提现 充值 赌博 彩票 下注 客服 微信 联系 日赚 "
         "高额 回报 投资 理财 账号 出售 转让 私聊 招募").split()
_PUNCT = "，。！？、"
_SOURCES = ("city-forum", "blog", "sms-forum", "news-comments", "campus-bbs")
_CATEGORIES = ("gambling", "fraud", "illicit_ads", "none")


def synthetic_posts(n: int, seed: int = 7) -> list[IndexedPost]:
    """~110-character posts; about one in six mixes in risk vocabulary."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    span = 300 * 24 * 3600
    posts = []
    for i in range(n):
        risky = rng.random() < 0.16
        parts: list[str] = []
        while sum(len(p) for p in parts) < 110:
            words = [rng.choice(_RISK if risky and rng.random() < 0.4
                                else _COMPOUNDS if rng.random() < COMPOUND_SHARE else _COMMON)
                     for _ in range(rng.randint(3, 7))]
            parts.append("".join(words) + rng.choice(_PUNCT))
        text = "".join(parts)
        category = rng.choice(_CATEGORIES[:3]) if risky else "none"
        published = start + timedelta(seconds=rng.randrange(span))
        posts.append(IndexedPost(
            id=f"b{i}", source=rng.choice(_SOURCES), url=f"https://example.cn/t/{i}", title=text[:12],
            text=text, author=f"user{rng.randrange(5000)}", published_at=published, fetched_at=published,
            primary=category, categories=() if category == "none" else (category,)))
    # Crawls deliver posts roughly in publication order; fully shuffled input inserts ~2x slower
    # because every batch then touches B-tree pages all over the file.
    posts.sort(key=lambda p: p.published_at)
    return posts


def queries(posts: list[IndexedPost]) -> dict[str, str]:
    recent = (max(p.published_at for p in posts) - timedelta(days=30)).date().isoformat()
    return {
        "common word": "博彩",
        "two words": "网站 返水",
        "phrase": '"博彩 网站"',
        "or": "刷单 OR 赌博",
        "compound word, run as the phrase 今天 天气": "今天天气",
        "sub-word that tiles (天气 in 今天天气)": "天气",
        "sub-word part (哈尔滨 in 哈尔滨市)": "哈尔滨",
        "word, last 30 days": f"博彩 published:>={recent}",
        "word and exclusion": "平台 -代理",
        "filter only": "category:gambling source:blog",
        "empty (newest first)": "",
    }


class _Clock:
    """Wall and CPU seconds of a block."""

    def __enter__(self) -> "_Clock":
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def _rate(n: int, clock: _Clock) -> dict:
    return {"per_s_cpu": round(n / clock.cpu), "per_s_wall": round(n / clock.wall),
            "us_each_cpu": round(clock.cpu / n * 1e6, 1)}


def _latency(fn: Callable[[], int]) -> dict:
    hits = fn()  # warm caches, as a server would be
    wall, cpu = [], []
    for _ in range(REPEATS):
        with _Clock() as c:
            fn()
        wall.append(c.wall * 1000)
        cpu.append(c.cpu * 1000)
    wall.sort()
    return {"p50_ms_cpu": round(statistics.median(cpu), 3), "p50_ms_wall": round(statistics.median(wall), 3),
            "p95_ms_wall": round(wall[int(0.95 * (len(wall) - 1))], 3), "hits": hits}


def measure_insert(db: Path, posts: list[IndexedPost]) -> tuple[SqliteIndex, dict]:
    """add() end to end with a fresh segmenter (its word memo starts empty, as in a new process),
    ending with a WAL checkpoint so the pages' copy into the database file is counted too."""
    index = SqliteIndex(db, segmenter=Segmenter())
    with _Clock() as clock:
        for i in range(0, len(posts), BATCH):
            index.add(posts[i:i + BATCH])
        index._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return index, _rate(len(posts), clock)


def measure_segmentation(posts: list[IndexedPost]) -> tuple[list[tuple], dict]:
    """Segmentation alone, as add() does it (one call per batch), keeping the token columns."""
    segmenter = Segmenter()
    segmenter.tokens("预热")  # load rjieba's dictionary outside the clock, as add() does before its first batch
    rows: list[tuple] = []
    with _Clock() as clock:
        for i in range(0, len(posts), BATCH):
            batch = posts[i:i + BATCH]
            texts = segmenter.index_texts([p.title for p in batch] + [p.text for p in batch]
                                          + [searchable(p.title, p.text, p.normalised) for p in batch])
            n = len(batch)
            rows.extend((texts[j][0], texts[n + j][0], texts[j][1], texts[n + j][1], texts[2 * n + j][0],
                         texts[2 * n + j][1]) for j in range(n))
    return rows, _rate(len(posts), clock)


def baseline_insert(db: Path, token_rows: list[tuple]) -> tuple[sqlite3.Connection, dict]:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE VIRTUAL TABLE post_fts USING fts5(title, body, title_parts, body_parts, norm, norm_parts,"
                 " tokenize = \"unicode61 remove_diacritics 0 categories 'L* N* Co So'\")")
    with _Clock() as clock:
        for i in range(0, len(token_rows), BATCH):
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO post_fts (title, body, title_parts, body_parts, norm, norm_parts)"
                             " VALUES (?, ?, ?, ?, ?, ?)",
                             token_rows[i:i + BATCH])
            conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return conn, _rate(len(token_rows), clock)


def run(n_posts: int = 50_000) -> dict:
    posts = synthetic_posts(n_posts)
    asked = queries(posts)
    out: dict = {"n_posts": n_posts, "batch": BATCH}
    with tempfile.TemporaryDirectory() as tmp:
        token_rows, out["segmentation_only"] = measure_segmentation(posts)
        index, out["insert_add_end_to_end"] = measure_insert(Path(tmp) / "bench.db", posts)
        base, out["insert_baseline_plain_fts5_same_tokens"] = baseline_insert(Path(tmp) / "baseline.db", token_rows)
        store_us = out["insert_add_end_to_end"]["us_each_cpu"] - out["segmentation_only"]["us_each_cpu"]
        out["insert_store_only_us_cpu (add minus segmentation)"] = round(store_us, 1)

        full, bare, baseline = {}, {}, {}
        for kind, q in asked.items():
            full[kind] = _latency(lambda q=q: index.search(SearchQuery(q=q, limit=20)).total)
            bare[kind] = _latency(
                lambda q=q: index.search(SearchQuery(q=q, limit=20, facets=False, highlight=False)).total)
            match = plan(parse(q).root).match if q else None
            if match is not None and not plan(parse(q).root).conditions:
                def bare_fts5(m=match) -> int:
                    base.execute("SELECT rowid FROM post_fts WHERE post_fts MATCH ? ORDER BY rank LIMIT 20",
                                 (m,)).fetchall()
                    return base.execute("SELECT count(*) FROM post_fts WHERE post_fts MATCH ?", (m,)).fetchone()[0]
                baseline[kind] = _latency(bare_fts5)
        out["search_with_facets_and_highlights"] = full
        out["search_without_facets_or_highlights"] = bare
        out["baseline_bare_fts5_rank_and_count"] = baseline
        index.close()
        base.close()
    return out


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000), ensure_ascii=False, indent=2))
