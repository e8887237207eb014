"""Bursts: a key's count in the current hour against its own history.

Keys are a term of a watch-list (the public-safety watch included), a harm category, or a place
(province or city code). History is the same hour on each of the past 14 days and the 24 hours
before the current one: a key that is always busy at 20:00 does not burst at 20:00, and a new
key with no history bursts on its first busy hour. The test is Poisson-like: the current count
must reach a floor, be several times what history expects, and exceed it by `z` standard
deviations (sqrt of the expectation, at least 1). One window raises at most one alert per key;
the store's unique (kind, key, window) row makes that hold across processes.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from patrol import taxonomy
from patrol.alerts import OPEN, Alert

TERM, CATEGORY, PLACE = "term", "category", "place"
KINDS = (TERM, CATEGORY, PLACE)
OPS_TREND = "ops_trend"
HISTORY_DAYS = 14
WINDOW = timedelta(hours=1)
# The floor a window must reach, per kind; public-safety terms have their own, lower floor:
# a fast-growing accident is what a duty officer must see first.
MIN_COUNT = {TERM: 5, CATEGORY: 8, PLACE: 8}
SAFETY_MIN_COUNT = 3
Z = 3.0
RATIO = 3.0


def window_start(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def history_hours(start: datetime) -> list[datetime]:
    """The hours a window is compared with: the same hour of the past 14 days, the 24 before."""
    same_hour = [start - timedelta(days=d) for d in range(1, HISTORY_DAYS + 1)]
    previous = [start - timedelta(hours=h) for h in range(1, 25)]
    return sorted(set(same_hour + previous))


@dataclass(frozen=True)
class BurstVerdict:
    burst: bool
    current: int
    expected: float
    score: float        # how many standard deviations above what history expects


def judge(current: int, history: list[int], min_count: int, z: float = Z, ratio: float = RATIO) -> BurstVerdict:
    expected = sum(history) / len(history) if history else 0.0
    sd = max(math.sqrt(expected), 1.0)
    score = (current - expected) / sd
    burst = current >= min_count and current >= ratio * expected and score >= z
    return BurstVerdict(burst, current, round(expected, 3), round(score, 2))


def trend_alert(kind: str, key: str, label: str, start: datetime, verdict: BurstVerdict,
                series: list[tuple[str, int]], now: datetime, watchlist: str = "") -> Alert:
    """The `ops_trend` alert for one burst, with the series that justifies it (the console
    draws it from `analysis.trend`). Its source is the key: one active alert per key."""
    digest = hashlib.sha256(f"trend\x1f{kind}\x1f{key}\x1f{start.isoformat()}".encode()).hexdigest()[:23]
    severity = taxonomy.DEFAULT_SEVERITY[OPS_TREND]
    text = (f"{label}：{start:%Y-%m-%d %H}时这一小时 {verdict.current} 条，"
            f"按过去 {HISTORY_DAYS} 天同一时段和前 24 小时预期约 {verdict.expected:g} 条。")
    return Alert(
        id="t" + digest, post_id=None, source=f"trend:{kind}:{key}"[:200], category=OPS_TREND,
        labels=(OPS_TREND,), severity=severity, score=min(1.0, verdict.score / 10), status=OPEN,
        opened_at=now, due_at=now + taxonomy.SLA[OPS_TREND], rule=f"{OPS_TREND}@{kind}",
        title=f"趋势异动：{label}", text=text,
        analysis={"trend": {"kind": kind, "key": key, "label": label, "watchlist": watchlist,
                            "window_start": start.isoformat(), "current": verdict.current,
                            "expected": verdict.expected, "score": verdict.score,
                            "series": [{"hour": h, "count": n} for h, n in series]}},
    )
