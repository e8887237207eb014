"""Character tables of the normaliser: zero-width, full-width, variant, look-alike symbols and
emoji, spelled-out digits; and the cheap one-character probes the passes test before working.
"""
from __future__ import annotations

import re
import unicodedata

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CLASS = f"[{CJK}]"

_ZERO_WIDTH_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad\u180e\ufe00-\ufe0f\u034f]+")


def _build_fullwidth_table() -> dict[int, str]:
    # Chinese text is written with full-width punctuation; converting it would only add noise
    keep = set("，！？：；（）～％")
    table = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F) if chr(cp) not in keep}
    # circled / parenthesised / full-stop digits ①⑴⒈ and mathematical alphanumerics 𝐀𝑎𝟏: NFKC
    # gives exactly one ASCII character for these, which keeps the edit char-for-char.
    for lo, hi in ((0x2460, 0x24FF), (0x2776, 0x2793), (0x1D400, 0x1D7FF), (0x1F100, 0x1F10A)):
        for cp in range(lo, hi + 1):
            nf = unicodedata.normalize("NFKC", chr(cp))
            nf = nf.rstrip(".").strip("()")
            if len(nf) == 1 and nf.isascii() and nf.isalnum():
                table[cp] = nf
    return table


# 异体字 that OpenCC's t2s leaves alone, plus Kangxi radicals and CJK compatibility ideographs
# (NFKC maps both to the ordinary character and evaders use them to dodge exact matching).
_VARIANTS = {
    "亊": "事", "吿": "告", "囬": "回", "呌": "叫", "牀": "床", "緑": "绿", "嬭": "奶", "菓": "果",
    "峯": "峰", "綫": "线", "淸": "清", "眞": "真", "戶": "户", "偸": "偷", "敎": "教", "靑": "青",
    "黃": "黄", "擧": "举", "毎": "每", "內": "内", "卽": "即", "旣": "既", "銹": "锈", "衆": "众",
    "鷄": "鸡", "雞": "鸡", "猪": "猪", "啓": "启", "愽": "博", "賍": "赃", "亷": "廉", "凢": "凡",
    "冩": "写", "氹": "凼", "夀": "寿", "姉": "姊", "廸": "迪", "捜": "搜", "搉": "榷", "槍": "枪",
    "彈": "弹", "鎗": "枪", "媮": "偷", "錢": "钱", "賣": "卖", "買": "买", "嫖": "嫖", "濕": "湿",
    "粧": "妆", "葯": "药", "藥": "药", "煙": "烟", "烟": "烟", "麪": "面", "麫": "面", "鬥": "斗",
    "鬪": "斗", "閧": "哄", "犇": "奔",
}


def _build_variant_table() -> dict[int, str]:
    table = {ord(k): v for k, v in _VARIANTS.items() if k != v}
    for lo, hi in ((0x2F00, 0x2FD5), (0xF900, 0xFAFF)):
        for cp in range(lo, hi + 1):
            nf = unicodedata.normalize("NFKC", chr(cp))
            if len(nf) == 1 and nf != chr(cp):
                table[cp] = nf
    return table


_FULLWIDTH = _build_fullwidth_table()
_VARIANT = _build_variant_table()


def _class_of(chars) -> re.Pattern:
    """A compiled one-character class: searching for it is far cheaper than translating.
    Written as ranges, because re tests a long list of astral characters one by one."""
    cps = sorted({ord(c) for c in chars})
    parts = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        lo, hi = re.escape(chr(cps[i])), re.escape(chr(cps[j]))
        parts.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return re.compile("[" + "".join(parts) + "]")


_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")


class _CharProbe:
    """Does a text hold any of these characters? `re` tests a class with characters beyond the
    BMP (emoji, mathematical letters) range by range, ~10x slower than a BMP-only class, and
    almost no text has such characters; so the BMP ones are one class, the others are tested
    only when the text has any character beyond the BMP at all."""

    __slots__ = ("_bmp", "_astral")

    def __init__(self, chars):
        chars = set(chars)
        bmp = {c for c in chars if ord(c) < 0x10000}
        self._bmp = _class_of(bmp) if bmp else None
        self._astral = _class_of(chars - bmp) if chars - bmp else None

    def search(self, text: str) -> bool:
        if self._bmp is not None and self._bmp.search(text):
            return True
        return self._astral is not None and _ASTRAL_RE.search(text) is not None and self._astral.search(text) is not None


_FULLWIDTH_RE = _CharProbe(chr(c) for c in _FULLWIDTH)
_VARIANT_RE = _class_of(chr(c) for c in _VARIANT)

# Symbols and emoji that stand for a word. Only ones with one common reading in evader posts.
_LOOKALIKES = {
    "➕": "加", "🈶": "有", "🈚": "无", "⭕": "圈", "🍠": "小红书", "💰": "钱", "🐧": "QQ",
    "✈": "飞机", "🛩": "飞机", "🔫": "枪", "💊": "药", "🍃": "叶子", "❄": "冰", "🈲": "禁",
    "🆓": "免费", "🉑": "可", "㊙": "秘", "🈷": "月", "🚬": "烟", "💉": "针", "🔪": "刀",
    "💣": "炸弹", "🧨": "炸药", "📞": "电话", "☎": "电话", "📱": "手机", "🈺": "营业",
    "🈵": "满", "🈸": "申", "🉐": "得", "💲": "钱", "💵": "钱", "💴": "钱", "🎰": "老虎机",
    "🎲": "骰子", "🀄": "麻将", "🐸": "蛙", "🥬": "菠菜",
}
_LOOKALIKE_RE = _class_of(_LOOKALIKES)
_LOOKALIKE_PROBE = _CharProbe(_LOOKALIKES)
# "+V", "+我", "+Q": a plus sign before a contact token means 加
_PLUS_RE = re.compile(r"\+(?=\s?(?:[vVqQ微薇威我]|扣扣|企鹅|QQ|qq))")

# Digit-like characters; a run of >= 5 of them is a number written to dodge digit matching.
_NUMERALS = {
    "零": "0", "〇": "0", "洞": "0", "幺": "1", "一": "1", "壹": "1", "二": "2", "两": "2", "贰": "2",
    "三": "3", "叁": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6", "陆": "6", "七": "7",
    "柒": "7", "拐": "7", "八": "8", "捌": "8", "九": "9", "玖": "9", "勾": "9",
}
_NUM_CHARS = "0-9" + "".join(_NUMERALS)
_NUMERAL_RUN_RE = re.compile(rf"[{_NUM_CHARS}](?:[ \-]?[{_NUM_CHARS}]){{4,}}")
_HAS_NUMERAL_RE = re.compile(f"[{''.join(_NUMERALS)}]")


def _finditer_from(rx: re.Pattern, starts: re.Pattern, t: str):
    """`rx.finditer(t)` for a pattern whose matches can only begin on a character of `starts`
    (and are never empty): trying it only there spares the regex engine a failed attempt of
    every alternative at every other position. Lookbehinds still see the whole text."""
    pos = 0
    n = len(t)
    while pos < n:
        s = starts.search(t, pos)
        if s is None:
            return
        m = rx.match(t, s.start())
        if m is None:
            pos = s.start() + 1
        else:
            yield m
            pos = m.end()
