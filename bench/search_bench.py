"""Search index benchmark: bulk insert rate and query latency of SqliteIndex on synthetic Chinese
posts, beside a baseline measured in the same run: a plain FTS5 table with the unicode61 tokenizer
over the raw text (no segmentation, no facets, no highlights).

The baseline bounds what FTS5 itself costs; the difference is our segmentation, the posts table,
facets and highlights. Note the baseline cannot actually find Chinese words (unicode61 takes a
whole run of Chinese characters as one token), so its hit counts are not comparable, only its speed.

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

from search.index import IndexedPost, SearchQuery
from search.sqlite_index import SqliteIndex

BATCH = 500
REPEATS = 40

_COMMON = ("今天 我们 这个 可以 已经 大家 朋友 公司 城市 时间 问题 工作 生活 学校 孩子 医院 价格 服务 "
           "感觉 发现 觉得 希望 看到 知道 开始 需要 一起 还是 非常 真的 地方 晚上 周末 天气 网上 视频 "
           "消息 活动 社区 小区 物业 停车 交通 地铁 公交 外卖 快递 手机 电脑 游戏 比赛 球队 音乐 电影").split()
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
            words = [rng.choice(_RISK if risky and rng.random() < 0.4 else _COMMON)
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


def _latency(fn) -> dict:
    fn()  # warm caches, as a server would be
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        hits = fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 3),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3), "hits": hits}


def run(n_posts: int = 50_000) -> dict:
    posts = synthetic_posts(n_posts)
    recent = (max(p.published_at for p in posts) - timedelta(days=30)).date().isoformat()
    queries = {
        "common word": "博彩",
        "two words": "网站 返水",
        "phrase": '"博彩 网站"',
        "or": "刷单 OR 赌博",
        "word, last 30 days": f"博彩 published:>={recent}",
        "word and exclusion": "平台 -代理",
        "filter only": "category:gambling source:blog",
        "empty (newest first)": "",
    }
    with tempfile.TemporaryDirectory() as tmp:
        index = SqliteIndex(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        for i in range(0, n_posts, BATCH):
            index.add(posts[i:i + BATCH])
        insert_s = time.perf_counter() - t0

        ours = {}
        for kind, q in queries.items():
            ours[kind] = _latency(lambda q=q: index.search(SearchQuery(q=q, limit=20)).total)
        bare = {}
        for kind, q in queries.items():
            bare[kind] = _latency(
                lambda q=q: index.search(SearchQuery(q=q, limit=20, facets=False, highlight=False)).total)
        index.close()

        conn = sqlite3.connect(Path(tmp) / "baseline.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE VIRTUAL TABLE raw USING fts5(title, body, tokenize = 'unicode61')")
        t0 = time.perf_counter()
        for i in range(0, n_posts, BATCH):
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO raw (title, body) VALUES (?, ?)",
                             [(p.title, p.text) for p in posts[i:i + BATCH]])
            conn.execute("COMMIT")
        baseline_insert_s = time.perf_counter() - t0
        baseline = {}
        for kind, match in {"common word": '"博彩"', "two words": '"网站" AND "返水"', "or": '"刷单" OR "赌博"'}.items():
            baseline[kind] = _latency(lambda m=match: len(conn.execute(
                "SELECT rowid FROM raw WHERE raw MATCH ? ORDER BY rank LIMIT 20", (m,)).fetchall()))
        conn.close()

    return {
        "n_posts": n_posts,
        "insert_docs_per_s": round(n_posts / insert_s),
        "baseline_insert_docs_per_s": round(n_posts / baseline_insert_s),
        "search_with_facets_and_highlights": ours,
        "search_without_facets_or_highlights": bare,
        "baseline_unicode61_raw_text": baseline,
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000), ensure_ascii=False, indent=2))
