"""Homophones and look-alike spellings of harm and contact words, each with the context guard
that decides whether it is one here (菠菜→博彩 only near betting words, 紫砂→自杀 but not 紫砂壶).
"""
from __future__ import annotations

import re

from nlp.pinyin import _PINYIN_TERMS

# --------------------------------------------------------------------------------------------
# Homophones: (pattern, replacement, guard) — guard(text, match) decides in context
# --------------------------------------------------------------------------------------------

_GAMBLING_CUES = re.compile(
    r"平台|网站|网址|注册|充值|下注|彩金|代理|返水|回血|导师|计划|包赢|稳赚|娱乐|盘口|出款|提款|上分|下分|"
    r"担保|信誉|大额|链接|推荐|带单|稳|赢|玩|微信|QQ|群|私聊|回本|输"
)
_FOOD_CUES = re.compile(r"炒|吃|汤|新鲜|好吃|蔬菜|鸡蛋|豆腐|凉拌|饭|口感|味道|菜品|外卖|送餐|焯|饺|粉丝|营养|一斤|超市|买菜")
_CONTACT_AFTER = re.compile(r"\s?(?:[:：号]|\s?[A-Za-z0-9_\-]{5,})")


def _near(text: str, m: re.Match, radius: int = 30) -> str:
    return text[max(0, m.start() - radius): m.end() + radius]


def _gambling_context(text: str, m: re.Match) -> bool:
    around = _near(text, m)
    return bool(_GAMBLING_CUES.search(around)) and not _FOOD_CUES.search(around)


def _contact_context(text: str, m: re.Match, space_after_plus: bool = False) -> bool:
    before = text[max(0, m.start() - 2): m.start()]
    if space_after_plus and before[-1:].isspace():
        before = before[:-1]
    return before.endswith("加") or before.endswith("+") or bool(_CONTACT_AFTER.match(text, m.end()))


def _letter_contact_context(text: str, m: re.Match) -> bool:
    """`_contact_context` for a Latin v, which may also sit one space after 加 ("加 V 了解"): the
    separator pass closes such gaps only between Chinese characters."""
    return _contact_context(text, m, space_after_plus=True)


def _not_teapot(text: str, m: re.Match) -> bool:
    return not re.match(r"[壶锅杯陶茶泥器具]", text[m.end(): m.end() + 1])


def _always(text: str, m: re.Match) -> bool:
    return True


# what may stand between the spaced-out letters of "v x" / "Q Q": a space (not a line break) or a
# separator symbol
_LETTER_GAP = r"(?:[^\S\r\n]|[*_·\-\u2800\u3164\uffa0❤♥])"

_HOMOPHONES: tuple[tuple[str, str, object], ...] = (
    (r"(?:菠菜|波菜)", "博彩", _gambling_context),
    (r"(?:薇|徽|嶶|维|V|v)信", "微信", _always),
    (r"(?<![A-Za-z])[Vv][\s.·_*\-]{1,2}信", "微信", _always),
    (r"威信", "微信", _contact_context),
    (r"卫星号", "微信号", _always),
    (r"(?<![A-Za-z])[vVwW][xX](?![A-Za-z])", "微信", _always),
    # "v x", "V　X", "w*x": the letters spaced out, alone (not "size w x h", not "10 w x 20")
    (rf"(?<![A-Za-z0-9])(?<![A-Za-z0-9] )[vVwW]{_LETTER_GAP}{{1,3}}[xX](?![A-Za-z])"
     r"(?![^\S\r\n]?[A-Za-z0-9](?![A-Za-z0-9]))", "微信", _always),
    # and "Q Q" for QQ
    (rf"(?<![A-Za-z0-9])(?<![A-Za-z0-9] )[qQ]{_LETTER_GAP}{{1,3}}[qQ](?![A-Za-z])"
     r"(?![^\S\r\n]?[A-Za-z0-9](?![A-Za-z0-9]))", "QQ", _always),
    (r"(?<![A-Za-z])[wW]ei[xX]in(?![A-Za-z])", "微信", _always),
    (r"(?:薇|威|卫星|徽)", "微信", _contact_context),
    (r"(?<![A-Za-z])[vV](?![A-Za-z0-9])", "微信", _letter_contact_context),
    (r"(?<![A-Za-z])(?:V|v)(?=[:：]\s?[A-Za-z0-9_\-]{5,})", "微信", _always),
    (r"扣扣", "QQ", _always),
    (r"(?:扣|企鹅)号", "QQ号", _always),
    (r"企鹅", "QQ", _contact_context),
    (r"紫砂", "自杀", _not_teapot),
    (r"涩图", "色图", _always),
    (r"涩情", "色情", _always),
    (r"倮聊", "裸聊", _always),
)
_HOMOPHONE_RE = re.compile("|".join(f"(?P<h{i}>{p})" for i, (p, _r, _g) in enumerate(_HOMOPHONES)))
# Words a separator may never split, whatever the lexicon: the Chinese spellings the homophone
# and pinyin passes must see whole ("菠.菜" is 菠菜 before it can become 博彩)
_BUILTIN_FOLD = frozenset(
    {"菠菜", "波菜", "薇信", "威信", "维信", "卫星号", "扣扣", "企鹅号", "紫砂", "涩图", "涩情", "倮聊"}
    | set(_PINYIN_TERMS)
)
# (a Q counts only before a separator: "Q Q" is the one pattern starting with it, and "QQ" is common)
_HOMOPHONE_PREFILTER = re.compile(rf"[菠波薇徽嶶维VvWw威卫扣企紫涩倮Qq](?:(?<![Qq])|(?={_LETTER_GAP}))")
