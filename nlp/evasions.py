"""Evasions that both the normaliser undoes and the silver generator writes, in one table, so
that silver (nlp/silver.py) only ever writes an evasion the normaliser (nlp/normalise_passes.py)
can undo. tests/nlp/test_evasions.py holds the two to it, and checks every pair against
ordinary text that happens to hold the same two characters.
"""
from __future__ import annotations

import re

# 拆字: two components written side by side for one character. Only pairs that are not
# themselves common words: 木子 (李), 日月 (明), 女子 (好), 木木 (林), 女未 (妹, as in 少女未成年)
# and 力口 (加, as in 努力口语) are left out, because undoing them would rewrite ordinary text.
SPLIT_CHARS: dict[str, str] = {
    "弓长": "张", "女昌": "娼", "钅仓": "枪", "火乍": "炸", "马扁": "骗", "贝者": "赌", "女乃": "奶",
    "米青": "精", "讠正": "证", "又鸟": "鸡", "扌仓": "抢", "女票": "嫖", "氵去": "法", "亻尔": "你",
    "口巴": "吧", "纟色": "绝",
    "木仓": "枪", "火包": "炮", "耳卯": "聊", "纟勺": "约", "钅戋": "钱",
}

# A pair that is also part of ordinary words means its character only where the text right
# after it matches the guard (a regex matched at the end of the pair):
#   女票 is slang for girlfriend; it means 嫖 only before 娼/客/资/妓
#   木仓 is also the end of 积木 / 红木 before 库 or 储 (积木仓库, 红木仓储)
#   火包 is also 火 + 包围 / 包裹 (被大火包围)
SPLIT_GUARDS: dict[str, str] = {
    "女票": "娼|客|资|妓",
    "木仓": "(?!库|储)",
    "火包": "(?!围|裹)",
}


def split_guard_allows(pair: str, text: str, end: int) -> bool:
    """Whether `pair`, ending at `end` in `text`, stands for its character there."""
    guard = SPLIT_GUARDS.get(pair)
    return guard is None or re.compile(guard).match(text, end) is not None


# The pairs the silver generator writes, in the order it looks for their characters: a choice
# among the pairs above (the common ones in ads), never a pair of its own.
SILVER_SPLIT_PAIRS: tuple[str, ...] = ("弓长", "女昌", "木仓", "火包", "耳卯", "纟勺", "女票", "钅戋", "贝者")


def silver_split_forms() -> dict[str, str]:
    """character -> the split form silver writes for it."""
    unknown = [p for p in SILVER_SPLIT_PAIRS if p not in SPLIT_CHARS]
    if unknown:
        raise ValueError(f"silver would write split pairs the normaliser does not undo: {unknown}")
    return {SPLIT_CHARS[p]: p for p in SILVER_SPLIT_PAIRS}
