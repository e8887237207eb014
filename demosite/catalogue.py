"""The demo site's content, loaded from content/*.json(l) and pinned to clock times.

Each post's time is stored as minutes before the site's anchor (the moment the site started), so
the forum always looks recently active and relative times ("3 小时前") are meaningful.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

CONTENT_DIR = Path(__file__).parent / "content"
FIRST_TID = 100
FIRST_PID = 1000


@dataclass(frozen=True)
class Board:
    fid: int
    name: str
    charset: str
    relative_titles: bool


@dataclass(frozen=True)
class Floor:
    pid: int
    number: int  # 1 = the opening post (楼主)
    author: str
    text: str
    label: str
    posted: datetime
    blocked: bool = False
    edited: bool = False
    quote_of: int | None = None  # index of the floor quoted, in the same thread
    origin: str | None = None


@dataclass(frozen=True)
class Thread:
    tid: int
    fid: int
    title: str
    sticky: bool
    floors: tuple[Floor, ...]

    @property
    def replies(self) -> int:
        return len(self.floors) - 1

    @property
    def last_post(self) -> Floor:
        return self.floors[-1]


@dataclass(frozen=True)
class NewsItem:
    id: int
    title: str
    author: str
    paragraphs: tuple[str, ...]
    inline: bool  # full text in the feed (content:encoded) or only a link to the article page
    label: str
    published: datetime


@dataclass
class Catalogue:
    site_name: str
    boards: dict[int, Board]
    threads: dict[int, Thread]
    news: list[NewsItem]
    threads_per_page: int
    posts_per_page: int
    anchor: datetime
    floors_by_pid: dict[int, tuple[Thread, Floor]] = field(default_factory=dict)

    def board_threads(self, fid: int) -> list[Thread]:
        """Sticky threads first, then by last reply, newest first: Discuz's default order."""
        threads = [t for t in self.threads.values() if t.fid == fid]
        return sorted(threads, key=lambda t: (not t.sticky, -t.last_post.posted.timestamp(), t.tid))

    def all_floors(self) -> list[tuple[Thread, Floor]]:
        return [(t, f) for t in self.threads.values() for f in t.floors]


def _floor_times(anchor: datetime, ago_minutes: int, count: int) -> list[datetime]:
    # Spread replies over the first 80% of the thread's life so the newest is still in the past.
    start = anchor - timedelta(minutes=ago_minutes)
    step = (ago_minutes * 0.8) / max(count, 1)
    return [start + timedelta(minutes=int(i * step)) for i in range(count)]


def load_catalogue(anchor: datetime, content_dir: Path = CONTENT_DIR) -> Catalogue:
    if anchor.tzinfo is None:
        raise ValueError("anchor must be timezone-aware")
    anchor = anchor.replace(second=0, microsecond=0)
    meta = json.loads((content_dir / "boards.json").read_text(encoding="utf-8"))
    boards = {
        b["fid"]: Board(b["fid"], b["name"], b["charset"], b.get("relative_titles", True))
        for b in meta["boards"]
    }
    threads: dict[int, Thread] = {}
    by_pid: dict[int, tuple[Thread, Floor]] = {}
    pid = FIRST_PID
    lines = (content_dir / "threads.jsonl").read_text(encoding="utf-8").splitlines()
    for offset, line in enumerate(l for l in lines if l.strip()):
        raw = json.loads(line)
        if raw["fid"] not in boards:
            raise ValueError(f"threads.jsonl line {offset + 1}: unknown board fid {raw['fid']}")
        tid = FIRST_TID + offset
        times = _floor_times(anchor, int(raw["ago"]), len(raw["floors"]))
        origins = raw.get("origin", {})
        floors = []
        for index, entry in enumerate(raw["floors"]):
            author, label, text = entry[:3]
            extra = entry[3] if len(entry) > 3 else {}
            floors.append(Floor(
                pid=pid, number=index + 1, author=author, text=text, label=label, posted=times[index],
                blocked=bool(extra.get("blocked")), edited=bool(extra.get("edited")),
                quote_of=extra.get("quote"), origin=origins.get(str(index)),
            ))
            pid += 1
        thread = Thread(tid, raw["fid"], raw["title"], bool(raw.get("sticky")), tuple(floors))
        threads[tid] = thread
        for floor in floors:
            by_pid[floor.pid] = (thread, floor)
    news = []
    for line in (content_dir / "news.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        news.append(NewsItem(
            id=raw["id"], title=raw["title"], author=raw["author"], paragraphs=tuple(raw["body"]),
            inline=bool(raw["inline"]), label=raw["label"],
            published=anchor - timedelta(minutes=int(raw["ago"])),
        ))
    news.sort(key=lambda n: n.published, reverse=True)
    return Catalogue(
        site_name=meta["site_name"], boards=boards, threads=threads, news=news,
        threads_per_page=int(meta["threads_per_page"]), posts_per_page=int(meta["posts_per_page"]),
        anchor=anchor, floors_by_pid=by_pid,
    )
