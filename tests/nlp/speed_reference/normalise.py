"""Undo the tricks evaders use to hide words, and keep a trail of every change.

`normalise(text)` runs a fixed list of passes (zero-width, full-width, variant, traditional,
look-alike, separator, split-character, pinyin, homophone, numeral). Each pass only finds
spans to replace; `_Rewriter` keeps the edits as non-overlapping spans of the ORIGINAL text,
so the trail can be shown to a reviewer ("薇❤信 → 微信") and any span of the normalised text
can be mapped back to the original for highlighting.

Clean text is the common case, so every pass first checks cheaply (one regex search or one
str.translate) whether it has anything to do, and no per-character Python work happens unless
it has.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from nlp.analysis import TrailStep

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CLASS = f"[{CJK}]"

# --------------------------------------------------------------------------------------------
# The rewriter: edits on the original text
# --------------------------------------------------------------------------------------------


@dataclass
class _Edit:
    start: int  # original offsets
    end: int
    out: str
    kinds: tuple[str, ...]


class _Rewriter:
    """Holds the original text and the edits made so far; `text` is the current normalised text."""

    __slots__ = ("original", "text", "edits")

    def __init__(self, original: str):
        self.original = original
        self.text = original
        self.edits: list[_Edit] = []

    def _layout(self):
        """Segments of the current text: (cur_start, cur_end, orig_start, orig_end, edit|None)."""
        segs = []
        cur = 0
        prev = 0
        for ed in self.edits:
            if ed.start > prev:
                n = ed.start - prev
                segs.append((cur, cur + n, prev, ed.start, None))
                cur += n
            segs.append((cur, cur + len(ed.out), ed.start, ed.end, ed))
            cur += len(ed.out)
            prev = ed.end
        if prev < len(self.original) or not segs:
            n = len(self.original) - prev
            segs.append((cur, cur + n, prev, len(self.original), None))
        return segs

    def replace(self, kind: str, subs: list[tuple[int, int, str]]) -> None:
        """Apply replacements given in CURRENT-text offsets: sorted, non-overlapping, non-empty."""
        if not subs:
            return
        segs = self._layout()
        covered: set[int] = set()
        new_edits: list[_Edit] = []
        i = 0
        for s, e, rep in subs:
            covered_before = set(covered)
            # skip segments wholly before s
            while i < len(segs) and (segs[i][1] <= s if segs[i][1] > segs[i][0] else segs[i][0] <= s):
                i += 1
            j = i
            first = last = None
            kinds: list[str] = []
            while j < len(segs):
                cs, ce, os_, oe, ed = segs[j]
                if cs >= e:
                    break
                overlaps = (cs < e and ce > s) if ce > cs else (s < cs < e)
                if overlaps:
                    if first is None:
                        first = segs[j]
                    last = segs[j]
                    if ed is not None:
                        covered.add(id(ed))
                        for k in ed.kinds:
                            if k not in kinds:
                                kinds.append(k)
                j += 1
            if first is None or (first[4] is not None and id(first[4]) in covered_before):
                # nothing to anchor on, or an earlier replacement in this same pass already took
                # this edit apart: skip rather than produce overlapping edits
                i = max(i, j - 1)
                continue
            fcs, _fce, fos, _foe, fed = first
            lcs, _lce, los, loe, led = last
            if fed is None:
                ostart, prefix = fos + (s - fcs), ""
            else:
                ostart, prefix = fos, fed.out[: s - fcs]
            if led is None:
                oend, suffix = los + (e - lcs), ""
            else:
                oend, suffix = loe, led.out[e - lcs:]
            if kind not in kinds:
                kinds.append(kind)
            new_edits.append(_Edit(ostart, oend, prefix + rep + suffix, tuple(kinds)))
            i = max(i, j - 1)
        kept = [ed for ed in self.edits if id(ed) not in covered]
        self.edits = sorted(kept + new_edits, key=lambda ed: (ed.start, ed.end))
        self.text = self._render()

    def _render(self) -> str:
        parts = []
        prev = 0
        orig = self.original
        for ed in self.edits:
            parts.append(orig[prev:ed.start])
            parts.append(ed.out)
            prev = ed.end
        parts.append(orig[prev:])
        return "".join(parts)


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Normalised:
    """The normalised text, the trail of changes (original offsets) and a way back."""

    text: str
    trail: tuple[TrailStep, ...]
    original: str = ""
    _starts: tuple[int, ...] = field(default=(), repr=False, compare=False)
    _segs: tuple = field(default=(), repr=False, compare=False)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalised text to the span of the original it came from.

        A span that touches part of a replacement widens to the whole replaced original span,
        because "微信" made from "薇❤信" cannot be split back character by character.
        """
        if not self.trail:
            return start, end
        n = len(self.text)
        start = max(0, min(start, n))
        end = max(start, min(end, n))
        ostart = self._map(start, side="start")
        if end == start:
            return ostart, ostart
        oend = self._map(end - 1, side="end")
        return ostart, max(ostart, oend)

    def _map(self, pos: int, side: str) -> int:
        # the last non-empty segment whose cur_start <= pos
        idx = bisect.bisect_right(self._starts, pos) - 1
        while idx > 0 and self._segs[idx][1] == self._segs[idx][0]:
            idx -= 1
        if idx < 0:
            return 0
        cs, ce, os_, oe, is_edit = self._segs[idx]
        if pos >= ce:  # past the end of the text
            return oe
        if is_edit:
            return os_ if side == "start" else oe
        return os_ + (pos - cs) + (1 if side == "end" else 0)

    def steps_within(self, start: int, end: int) -> tuple[TrailStep, ...]:
        """Trail steps that overlap the original span [start, end)."""
        return tuple(t for t in self.trail if t.start < end and t.end > start or (t.start == t.end == start))


def apply_trail(original: str, trail) -> str:
    """Rebuild the normalised text from the original and the trail (used by tests and reviewers)."""
    parts = []
    prev = 0
    for step in sorted(trail, key=lambda t: (t.start, t.end)):
        parts.append(original[prev:step.start])
        parts.append(step.replacement)
        prev = step.end
    parts.append(original[prev:])
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------

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


_FULLWIDTH_RE = _class_of(chr(c) for c in _FULLWIDTH)
_VARIANT_RE = _class_of(chr(c) for c in _VARIANT)

# Symbols and emoji that stand for a word. Only ones with one common reading in evader posts.
_LOOKALIKES = {
    "➕": "加", "🈶": "有", "🈚": "无", "⭕": "圈", "🍠": "小红书", "💰": "钱", "🐧": "QQ",
    "✈": "飞机", "🛩": "飞机", "🔫": "枪", "💊": "药", "🍃": "叶子", "❄": "冰", "🈲": "禁",
    "🆓": "免费", "🉑": "可", "㊙": "秘", "🈷": "月", "🚬": "烟", "💉": "针", "🔪": "刀",
    "💣": "炸弹", "🧨": "炸药", "📞": "电话", "☎": "电话", "📱": "手机", "🈺": "营业",
    "🈵": "满", "🈸": "申", "🉐": "得", "💲": "钱", "💵": "钱", "💴": "钱", "🎰": "老虎机",
    "🎲": "骰子", "🀄": "麻将", "🐸": "蛙", "🥬": "菠菜",  # semantics change 2026-11-25 (not speed), mirrored
}
_LOOKALIKE_RE = _class_of(_LOOKALIKES)
# "+V", "+我", "+Q": a plus sign before a contact token means 加
_PLUS_RE = re.compile(r"\+(?=\s?(?:[vVqQ微薇威我]|扣扣|企鹅|QQ|qq))")

_EMOJI = "\U0001F300-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2764\u2665\u2661\u2605\u2606"
# separators that plain Chinese text never puts between two characters of a word
_STRONG_SEP = r"[*_|^#=`＊＿]"
# separators that do occur in clean text between words (spaces, dots, slashes, emoji):
# removed only when at least one side is a lone character, as in "刷 单" or "约.炮"
# semantics change 2026-11-25 (not speed), mirrored: braille blank and Hangul fillers are weak separators too
_CONTENT_EMOJI = "[\U0001F414\U0001F351\U0001F4A6\U0001F697\U0001F40E\U0001F51E\U0001F346\U0001F9AA]"  # semantics change 2026-11-25 (not speed), mirrored
_WEAK_SEP = rf"(?!{_CONTENT_EMOJI})[\s.\-/\\·•'\"~{_EMOJI}\u2800\u3164\uffa0]"  # semantics change 2026-11-25 (not speed), mirrored
_STRONG_SEP_RE = re.compile(rf"(?<={_CJK_CLASS}){_STRONG_SEP}{{1,3}}(?={_CJK_CLASS})")
# semantics change 2026-11-25 (not speed), mirrored: runs of up to 5 weak or strong separators; the weak pass keeps
# pure weak runs of at most 3, and runs with a strong separator only when they hold a space
_WEAK_SEP_RE = re.compile(rf"(?<={_CJK_CLASS})(?:{_WEAK_SEP}|{_STRONG_SEP}){{1,5}}(?={_CJK_CLASS})")
_CJK_RE = re.compile(_CJK_CLASS)
_PUNCT_SEP_RE = re.compile(r"[.\-/\\·•'\"~]+")
_ANY_SEP_RE = re.compile(rf"{_CJK_CLASS}(?:{_STRONG_SEP}|{_WEAK_SEP})")

# 拆字: two components written side by side for one character. Only pairs that are not
# themselves common words (so 木子/日月 are left out).
_SPLIT_CHARS = {
    "弓长": "张", "女昌": "娼", "钅仓": "枪", "火乍": "炸", "马扁": "骗", "贝者": "赌", "女乃": "奶",
    "米青": "精", "讠正": "证", "又鸟": "鸡", "扌仓": "抢", "女票": "嫖", "氵去": "法", "亻尔": "你",
    "口巴": "吧", "纟色": "绝",
}
# 女票 is also slang for girlfriend; it means 嫖 only before 娼/客/资
_SPLIT_GUARDS = {"女票": re.compile("娼|客|资|妓")}
_SPLIT_RE = re.compile("|".join(map(re.escape, _SPLIT_CHARS)))

# Pinyin spellings of harm words. Full pinyin is computed with pypinyin at import; initials
# are curated because most two-letter initials are ordinary abbreviations.
_PINYIN_TERMS = (
    "赌博", "博彩", "约炮", "兼职", "刷单", "毒品", "吸毒", "冰毒", "大麻", "卖淫", "嫖娼", "色情",
    "裸聊", "援交", "枪支", "自杀", "跳楼", "返利", "贷款", "网赚", "开盒", "杀猪盘", "楼凤", "外围",
    "迷药", "办证", "套现", "洗钱", "百家乐", "时时彩", "微信", "上门", "一夜情", "黄片", "毒贩",
    "自残", "割腕", "炸弹", "砍死", "杀人", "代孕", "跑分", "接码", "引流", "老虎机", "棋牌",
)
_INITIALS = {
    "yp": "约炮", "jz": "兼职", "zf": "转发", "bjl": "百家乐", "ssc": "时时彩", "yyq": "一夜情",
}

# Digit-like characters; a run of >= 5 of them is a number written to dodge digit matching.
_NUMERALS = {
    "零": "0", "〇": "0", "洞": "0", "幺": "1", "一": "1", "壹": "1", "二": "2", "两": "2", "贰": "2",
    "三": "3", "叁": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6", "陆": "6", "七": "7",
    "柒": "7", "拐": "7", "八": "8", "捌": "8", "九": "9", "玖": "9", "勾": "9",
}
_NUM_CHARS = "0-9" + "".join(_NUMERALS)
_NUMERAL_RUN_RE = re.compile(rf"[{_NUM_CHARS}](?:[ \-]?[{_NUM_CHARS}]){{4,}}")
_HAS_NUMERAL_RE = re.compile(f"[{''.join(_NUMERALS)}]")

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


def _contact_context(text: str, m: re.Match) -> bool:
    before = text[max(0, m.start() - 2): m.start()]
    return before.endswith("加") or before.endswith("+") or bool(_CONTACT_AFTER.match(text, m.end()))


def _letter_contact_context(text: str, m: re.Match) -> bool:  # semantics change 2026-11-25 (not speed), mirrored
    before = text[max(0, m.start() - 2): m.start()]
    if before[-1:].isspace():
        before = before[:-1]
    return before.endswith("加") or before.endswith("+") or bool(_CONTACT_AFTER.match(text, m.end()))


def _not_teapot(text: str, m: re.Match) -> bool:
    return not re.match(r"[壶锅杯陶茶泥器具]", text[m.end(): m.end() + 1])


def _always(text: str, m: re.Match) -> bool:
    return True


_HOMOPHONES: tuple[tuple[str, str, object], ...] = (
    (r"(?:菠菜|波菜)", "博彩", _gambling_context),
    (r"(?:薇|徽|嶶|维|V|v)信", "微信", _always),
    (r"(?<![A-Za-z])[Vv][\s.·_*\-]{1,2}信", "微信", _always),
    (r"威信", "微信", _contact_context),
    (r"卫星号", "微信号", _always),
    (r"(?<![A-Za-z])[vVwW][xX](?![A-Za-z])", "微信", _always),
    # semantics change 2026-11-25 (not speed), mirrored: spaced "v x"
    (r"(?<![A-Za-z0-9])(?<![A-Za-z0-9] )[vVwW](?:[^\S\r\n]|[*_·\-\u2800\u3164\uffa0❤♥]){1,3}[xX](?![A-Za-z])"
     r"(?![^\S\r\n]?[A-Za-z0-9](?![A-Za-z0-9]))", "微信", _always),
    # semantics change 2026-11-25 (not speed), mirrored: spaced "Q Q"
    (r"(?<![A-Za-z0-9])(?<![A-Za-z0-9] )[qQ](?:[^\S\r\n]|[*_·\-\u2800\u3164\uffa0❤♥]){1,3}[qQ](?![A-Za-z])"
     r"(?![^\S\r\n]?[A-Za-z0-9](?![A-Za-z0-9]))", "QQ", _always),
    (r"(?<![A-Za-z])[wW]ei[xX]in(?![A-Za-z])", "微信", _always),
    (r"(?:薇|威|卫星|徽)", "微信", _contact_context),
    (r"(?<![A-Za-z])[vV](?![A-Za-z0-9])", "微信", _letter_contact_context),  # semantics change 2026-11-25 (not speed), mirrored
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
_HOMOPHONE_PREFILTER = re.compile(r"[菠波薇徽嶶维VvWw威卫扣企紫涩倮Qq]")  # semantics change 2026-11-25 (not speed), mirrored: Q


@lru_cache(maxsize=1)
def _pinyin_regex():
    """One regex for all pinyin and mixed char/pinyin spellings of `_PINYIN_TERMS`."""
    from pypinyin import Style, lazy_pinyin

    alts = []
    targets: dict[str, str] = {}
    for term in _PINYIN_TERMS:
        sylls = lazy_pinyin(term, style=Style.NORMAL)
        parts = [f"(?:{re.escape(ch)}|{re.escape(py)})" for ch, py in zip(term, sylls)]
        alts.append(r"[\s.\-_*]{0,3}".join(parts))  # semantics change 2026-11-25 (not speed), mirrored: up to 3 separators
        targets["".join(sylls)] = term
    for ini, term in _INITIALS.items():
        alts.append(re.escape(ini))
    pattern = r"(?<![A-Za-z])(?:" + "|".join(sorted(alts, key=len, reverse=True)) + r")(?![A-Za-z])"
    return re.compile(pattern, re.IGNORECASE), targets


_LATIN_RE = re.compile(r"[A-Za-z]")
_NON_LATIN_RE = re.compile(r"[^A-Za-z]")
_KEEP_CASE_INITIALS = {"QQ"}


@lru_cache(maxsize=1)
def _pinyin_heads() -> frozenset[str]:
    from pypinyin import Style, lazy_pinyin

    heads = {ini[:2] for ini in _INITIALS}
    for term in _PINYIN_TERMS:
        heads.update(py[:2] for py in lazy_pinyin(term, style=Style.NORMAL))
    return frozenset(heads)


_LATIN_RUN_RE = re.compile(r"[A-Za-z]+")


# semantics change 2026-11-25 (not speed), mirrored: pinyin split into fragments ("sh ua dan")
def _fragment_subs(text: str) -> list[tuple[int, int, str]]:
    targets = _pinyin_regex()[1]
    runs = re.finditer(r"(?<![A-Za-z0-9])[A-Za-z]+(?:[\s.\-_*]{1,3}[A-Za-z]+)+(?![A-Za-z0-9])", text)
    subs = []
    for run in runs:
        toks = [(m.start(), m.end(), m.group().lower()) for m in re.finditer(r"[A-Za-z]+", run.group())]
        toks = [(run.start() + a, run.start() + b, w) for a, b, w in toks]
        i = 0
        while i < len(toks):
            best = None
            for j in range(i + 1, len(toks)):
                parts = [w for _a, _b, w in toks[i:j + 1]]
                one_letter_each = all(len(w) == 1 for w in parts)
                english = any(w in ("a", "i") for w in parts)
                if "".join(parts) in targets and (one_letter_each or not english):
                    best = j
            if best is None:
                i += 1
            else:
                word = "".join(w for _a, _b, w in toks[i:best + 1])
                subs.append((toks[i][0], toks[best][1], targets[word]))
                i = best + 1
    return subs


def _pinyin_subs(text: str) -> list[tuple[int, int, str]]:
    if not _LATIN_RE.search(text):
        return []
    frags = _fragment_subs(text)  # semantics change 2026-11-25 (not speed), mirrored
    heads = _pinyin_heads()
    # a run like "Checkin" cannot start a pinyin spelling of a listed term: skip the big regex
    if not any(run[:2].lower() in heads for run in _LATIN_RUN_RE.findall(text)):
        return frags  # semantics change 2026-11-25 (not speed), mirrored
    rx, targets = _pinyin_regex()
    subs = []
    for m in rx.finditer(text):
        if any(fs < m.end() and m.start() < fe for fs, fe, _ in frags):
            continue  # semantics change 2026-11-25 (not speed), mirrored
        raw = m.group(0)
        if not _LATIN_RE.search(raw):
            continue  # the plain characters: nothing to undo
        key = raw.lower()
        if key in _INITIALS:
            subs.append((m.start(), m.end(), _INITIALS[key]))
            continue
        # mixed or full pinyin: rebuild the term from the syllable pattern
        letters_only = _NON_LATIN_RE.sub("", key)
        term = targets.get(letters_only)
        if term is None:
            term = _term_for_mixed(raw)
        if term:
            subs.append((m.start(), m.end(), term))
    return sorted(subs + frags)  # semantics change 2026-11-25 (not speed), mirrored


@lru_cache(maxsize=4096)
def _term_for_mixed(raw: str) -> str | None:
    from pypinyin import Style, lazy_pinyin

    flat = re.sub(r"[\s.\-_*]", "", raw).lower()
    for term in _PINYIN_TERMS:
        sylls = lazy_pinyin(term, style=Style.NORMAL)
        pos = 0
        ok = True
        for ch, py in zip(term, sylls):
            if flat.startswith(ch, pos):
                pos += 1
            elif flat.startswith(py, pos):
                pos += len(py)
            else:
                ok = False
                break
        if ok and pos == len(flat):
            return term
    return None


# --------------------------------------------------------------------------------------------
# Passes
# --------------------------------------------------------------------------------------------


def _char_table_pass(rw: _Rewriter, kind: str, table: dict[int, str], probe: re.Pattern) -> None:
    t = rw.text
    if not probe.search(t):
        return
    out = t.translate(table)
    if out == t:
        return
    rw.replace(kind, [(i, i + 1, b) for i, (a, b) in enumerate(zip(t, out)) if a != b])


def _regex_pass(rw: _Rewriter, kind: str, rx: re.Pattern, repl) -> None:
    subs = []
    for m in rx.finditer(rw.text):
        r = repl(m)
        if r is not None and r != m.group(0):
            subs.append((m.start(), m.end(), r))
    rw.replace(kind, subs)


_T2S = None


def _t2s():
    global _T2S
    if _T2S is None:
        import opencc

        _T2S = opencc.OpenCC("t2s")
    return _T2S


@lru_cache(maxsize=8192)
def _t2s_char(ch: str) -> str:
    out = _t2s().convert(ch)
    return out if len(out) == 1 else ch


@lru_cache(maxsize=1)
def _traditional_probe() -> re.Pattern:
    """The characters that t2s changes on their own. Built once (about 50 ms) so that clean
    simplified text costs one regex search instead of a call into OpenCC."""
    conv = _t2s()
    chars = []
    for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF)):
        block = "".join(chr(cp) for cp in range(lo, hi + 1))
        out = conv.convert(block)
        if len(out) == len(block):
            chars.extend(a for a, b in zip(block, out) if a != b)
        else:
            chars.extend(c for c in block if conv.convert(c) != c)
    return _class_of(chars)


def _traditional_pass(rw: _Rewriter) -> None:
    t = rw.text
    if not _traditional_probe().search(t):
        return
    conv = _t2s().convert(t)
    if conv == t:
        return
    if len(conv) != len(t):
        # a phrase rule changed the length: fall back to character by character so offsets hold
        conv = "".join(_t2s_char(c) for c in t)
    rw.replace("traditional", [(i, i + 1, b) for i, (a, b) in enumerate(zip(t, conv)) if a != b])


def _lookalike_pass(rw: _Rewriter) -> None:
    t = rw.text
    if "+" in t:
        _regex_pass(rw, "lookalike", _PLUS_RE, lambda m: "加")
        t = rw.text
    subs = []
    for m in _LOOKALIKE_RE.finditer(t):
        ch = m.group(0)
        subs.append((m.start(), m.end(), _LOOKALIKES[ch]))
    if subs:
        # emoji and symbols are one kind each for the reviewer; split them into two passes
        emoji = [s for s in subs if ord(t[s[0]]) >= 0x1F000]
        symbols = [s for s in subs if ord(t[s[0]]) < 0x1F000]
        rw.replace("lookalike", symbols)
        if emoji:
            # offsets shift after the symbol pass; recompute on the new text
            _regex_pass(rw, "emoji", _LOOKALIKE_RE, lambda m: _LOOKALIKES[m.group(0)] if ord(m.group(0)[0]) >= 0x1F000 else None)


def _separator_pass(rw: _Rewriter, fold_terms: frozenset[str]) -> None:
    if not _ANY_SEP_RE.search(rw.text):
        return
    _regex_pass(rw, "separator", _STRONG_SEP_RE, lambda m: "")
    _weak_separator_pass(rw, fold_terms)


def _weak_separator_pass(rw: _Rewriter, fold_terms: frozenset[str]) -> None:
    t = rw.text
    cjk = _CJK_RE
    subs = []
    for m in _WEAK_SEP_RE.finditer(t):
        s, e = m.start(), m.end()
        # semantics change 2026-11-25 (not speed), mirrored
        run = m.group(0)
        has_strong = any(c in "*_|^#=`＊＿" for c in run)
        has_space = any(c.isspace() for c in run)
        if has_strong and not has_space:
            continue
        if not has_strong and len(run) > 3:
            continue
        left_alone = s < 2 or not cjk.match(t, s - 2)
        right_alone = e + 1 >= len(t) or not cjk.match(t, e + 1)
        # spaces and emoji between words are common but rarely around a lone character;
        # punctuation ("很好~下次", "不行.冲完凉") needs both sides alone to count as splitting a word
        if (left_alone and right_alone) or ((left_alone or right_alone) and not _PUNCT_SEP_RE.fullmatch(m.group(0))):
            subs.append((s, e, ""))
        elif _joins_a_term(t, s, e, fold_terms):
            # "菠.菜老平台": the lone-character rule cannot see that 菜 belongs to 菠, but the
            # vocabulary can; a join that makes no known word ("酒店 不错") is left alone
            subs.append((s, e, ""))
    rw.replace("separator", subs)


_FOLD_MAX = 8  # longest word looked for across a separator


def _joins_a_term(t: str, s: int, e: int, fold_terms: frozenset[str]) -> bool:
    """True when the CJK characters on both sides of the separator t[s:e] form a known word."""
    i = s
    while i > 0 and s - i < _FOLD_MAX - 1 and _CJK_RE.match(t, i - 1):
        i -= 1
    j = e
    while j < len(t) and j - e < _FOLD_MAX - 1 and _CJK_RE.match(t, j):
        j += 1
    left, right = t[i:s], t[e:j]
    for k in range(1, len(left) + 1):
        head = left[-k:]
        for n in range(1, min(len(right), _FOLD_MAX - k) + 1):
            word = head + right[:n]
            if word in _BUILTIN_FOLD or word in fold_terms:
                return True
    return False


def _split_pass(rw: _Rewriter) -> None:
    t = rw.text

    def repl(m):
        pair = m.group(0)
        guard = _SPLIT_GUARDS.get(pair)
        if guard and not guard.match(t, m.end()):
            return None
        return _SPLIT_CHARS[pair]

    _regex_pass(rw, "split_char", _SPLIT_RE, repl)


def _homophone_pass(rw: _Rewriter) -> None:
    t = rw.text
    if not _HOMOPHONE_PREFILTER.search(t):
        return
    subs = []
    for m in _HOMOPHONE_RE.finditer(t):
        idx = int(m.lastgroup[1:])
        _p, rep, guard = _HOMOPHONES[idx]
        if guard(t, m) and rep != m.group(0):
            subs.append((m.start(), m.end(), rep))
    rw.replace("homophone", subs)


def _numeral_pass(rw: _Rewriter) -> None:
    t = rw.text
    if not _HAS_NUMERAL_RE.search(t):
        return

    def repl(m):
        run = m.group(0)
        if not _HAS_NUMERAL_RE.search(run):
            return None
        digits = "".join(_NUMERALS.get(c, c) for c in run if c not in " -")
        return digits if len(digits) >= 5 else None

    _regex_pass(rw, "numeral", _NUMERAL_RUN_RE, repl)


# semantics change 2026-11-25 (not speed), mirrored: the link-dot pass
# "abc123点top", "hg0088。com", "www点xx88点cc", "ag88 . vip": a domain whose dots are written as
# 点 or a Chinese full stop, or spaced out, so that link detectors miss it. Only an ASCII label
# right before and a known top-level domain right after count, so "点了top10" stays (and no
# "me": "…it。me too" is English more often than a link).
_LINK_TLDS = ("top|vip|xyz|cc|club|icu|buzz|site|online|fun|shop|wang|ink|ltd|live|work|bet|win|asia|tk|ml|ga|"
              "cf|gq|cyou|sbs|cfd|rest|bar|app|link|com|net|cn|org")
_LINK_DOT = r"(?:[ \t]*[点。｡丶][ \t]*|[ \t]+\.[ \t]*|\.[ \t]+)"
_LINK_DOT_RE = re.compile(
    rf"(?<![A-Za-z0-9.\-])(?:(www){_LINK_DOT})?([A-Za-z0-9][A-Za-z0-9\-]*){_LINK_DOT}({_LINK_TLDS})(?![A-Za-z0-9])",
    re.IGNORECASE)
# what every match starts with, as one cheap pattern: most posts have a 。 but no ASCII before it
_LINK_DOT_PROBE = re.compile(rf"[A-Za-z0-9]{_LINK_DOT}[A-Za-z]")


def _link_dot_pass(rw: "_Rewriter") -> None:
    if not _LINK_DOT_PROBE.search(rw.text):
        return
    _regex_pass(rw, "link", _LINK_DOT_RE,
                lambda m: (m.group(1) + "." if m.group(1) else "") + m.group(2) + "." + m.group(3))


def normalise(text: str, fold_terms: frozenset[str] | set[str] = frozenset()) -> Normalised:
    """Normalise `text` for matching; see the module docstring for the passes and their order.

    `fold_terms`: words (the lexicon's `Lexicon.fold_terms`) that a space, dot or emoji between
    two Chinese characters may not split. The homophone keys and pinyin terms always count.
    """
    if not isinstance(text, str):
        raise TypeError(f"normalise() takes str, not {type(text).__name__}")
    rw = _Rewriter(text)
    if _ZERO_WIDTH_RE.search(text):
        _regex_pass(rw, "zero_width", _ZERO_WIDTH_RE, lambda m: "")
    if not text.isascii():
        _char_table_pass(rw, "fullwidth", _FULLWIDTH, _FULLWIDTH_RE)
        _char_table_pass(rw, "variant", _VARIANT, _VARIANT_RE)
        _traditional_pass(rw)
        _lookalike_pass(rw)
        _separator_pass(rw, fold_terms)
        _split_pass(rw)
    elif "+" in text:
        _regex_pass(rw, "lookalike", _PLUS_RE, lambda m: "加")
    _link_dot_pass(rw)
    rw.replace("pinyin", _pinyin_subs(rw.text))
    _homophone_pass(rw)
    _numeral_pass(rw)
    return _finish(rw)


_MERGEABLE = {"fullwidth", "traditional", "variant", "zero_width"}


def _finish(rw: _Rewriter) -> Normalised:
    if not rw.edits:
        return Normalised(text=rw.text, trail=(), original=rw.original)
    orig = rw.original
    # adjacent one-character edits of the same kind ("ｈｅｌｌｏ") read better as one step
    merged: list[list] = []
    for ed in rw.edits:
        kind = "+".join(ed.kinds)
        if merged and merged[-1][0] == kind and merged[-1][2] == ed.start and kind in _MERGEABLE:
            merged[-1][2] = ed.end
            merged[-1][3] += ed.out
        else:
            merged.append([kind, ed.start, ed.end, ed.out])
    trail = tuple(
        TrailStep(kind=k, start=s, end=e, original=orig[s:e], replacement=out) for k, s, e, out in merged
    )
    segs = tuple((cs, ce, os_, oe, ed is not None) for cs, ce, os_, oe, ed in rw._layout())
    return Normalised(text=rw.text, trail=trail, original=orig, _starts=tuple(s[0] for s in segs), _segs=segs)
