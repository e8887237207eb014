"""Times as Chinese forums and feeds write them, turned into timezone-aware datetimes.

Forums print local wall-clock time without a zone, and often relative times ("3 小时前",
"昨天 14:20") that only mean something against the moment the page was fetched. Both are
resolved here in the site's zone (Asia/Shanghai unless the page says otherwise).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_SPACE = re.compile(r"[\s\u00a0\u3000]+")
_ABSOLUTE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<h>\d{1,2})\s*[:：时]\s*(?P<mi>\d{1,2})(?:\s*[:：分]\s*(?P<s>\d{1,2}))?\s*秒?)?"
)
_CLOCK = r"(?:\s*(?P<h>\d{1,2})\s*[:：]\s*(?P<mi>\d{1,2})(?:\s*[:：]\s*(?P<s>\d{1,2}))?)?"
_DAY_WORDS = {"今天": 0, "昨天": 1, "前天": 2}
_DAY_WORD = re.compile(r"(?P<word>今天|昨天|前天)" + _CLOCK)
_AGO = re.compile(r"(?P<n>\d+|半|一|两|几)\s*(?:个)?\s*(?P<unit>秒|分钟|分|小时|钟头|天|日|周|星期|个月|月)\s*(?:以)?前")
_UNIT = {
    "秒": timedelta(seconds=1),
    "分钟": timedelta(minutes=1),
    "分": timedelta(minutes=1),
    "小时": timedelta(hours=1),
    "钟头": timedelta(hours=1),
    "天": timedelta(days=1),
    "日": timedelta(days=1),
    "周": timedelta(weeks=1),
    "星期": timedelta(weeks=1),
    "个月": timedelta(days=30),
    "月": timedelta(days=30),
}
_JUST_NOW = ("刚刚", "刚才", "片刻前")
_PREFIXES = ("发表于", "发布于", "发表时间", "回复于", "更新于", "最后回复", "编辑于")


def _localised(now: datetime, tz: tzinfo) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(tz)


def _clean(text: str) -> str:
    text = _SPACE.sub(" ", text).strip()
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):].lstrip(" :：")
    return text


def parse_forum_time(text: str | None, now: datetime, tz: tzinfo = SHANGHAI) -> datetime | None:
    """A forum's printed time, absolute or relative to `now` (the fetch time), or None if unreadable.

    The result is aware and expressed in `tz`, the site's zone.
    """
    if not text:
        return None
    text = _clean(text)
    local_now = _localised(now, tz)

    if any(text.startswith(word) for word in _JUST_NOW):
        return local_now.replace(microsecond=0)

    match = _ABSOLUTE.search(text)
    if match:
        try:
            return datetime(
                int(match["y"]), int(match["mo"]), int(match["d"]),
                int(match["h"] or 0), int(match["mi"] or 0), int(match["s"] or 0), tzinfo=tz,
            )
        except ValueError:
            return None

    match = _DAY_WORD.search(text)
    if match:
        day = (local_now - timedelta(days=_DAY_WORDS[match["word"]])).date()
        try:
            return datetime(
                day.year, day.month, day.day,
                int(match["h"] or 0), int(match["mi"] or 0), int(match["s"] or 0), tzinfo=tz,
            )
        except ValueError:
            return None

    match = _AGO.search(text)
    if match:
        n = match["n"]
        amount = {"半": 0.5, "一": 1, "两": 2, "几": 3}.get(n) or float(n)
        resolved = local_now - _UNIT[match["unit"]] * amount
        # "3 小时前" is not precise to the second; don't pretend it is.
        return resolved.replace(microsecond=0) if match["unit"] == "秒" else resolved.replace(second=0, microsecond=0)

    # "11-20 14:20": the current year, or last year if that would be in the future.
    match = re.search(r"(?P<mo>\d{1,2})\s*[-/月]\s*(?P<d>\d{1,2})\s*日?" + _CLOCK, text)
    if match:
        try:
            guess = datetime(local_now.year, int(match["mo"]), int(match["d"]),
                             int(match["h"] or 0), int(match["mi"] or 0), tzinfo=tz)
        except ValueError:
            return None
        if guess > local_now + timedelta(days=1):
            guess = guess.replace(year=guess.year - 1)
        return guess
    return None


def parse_feed_time(
    text: str | None, default_tz: tzinfo = SHANGHAI, now: datetime | None = None
) -> datetime | None:
    """RFC 822 (RSS) or ISO 8601 (Atom, JSON APIs); a time without a zone is taken as `default_tz`."""
    if not text:
        return None
    text = text.strip()
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        iso = text.replace("Z", "+00:00").replace("z", "+00:00")
        try:
            parsed = datetime.fromisoformat(iso)
        except ValueError:
            return parse_forum_time(text, now or datetime.now(timezone.utc), default_tz)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed
