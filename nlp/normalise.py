"""Undo the tricks evaders use to hide words, and keep a trail of every change.

`normalise(text)` runs a fixed list of passes (zero-width, full-width, variant, traditional,
look-alike, separator, split-character, link-dot, pinyin, homophone, numeral). Each pass only finds
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
from nlp.detectors import CHEAP_TLDS

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

_EMOJI = "\U0001F300-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2764\u2665\u2661\u2605\u2606"
# separators that plain Chinese text never puts between two characters of a word
_STRONG_SEP = r"[*_|^#=`＊＿]"
# separators that do occur in clean text between words (spaces, dots, slashes, emoji):
# removed only when at least one side is a lone character, as in "刷 单" or "约.炮"
# (U+2800 braille blank and the Hangul fillers look like a space but are not whitespace to `re`)
_WEAK_SEP = rf"[\s.\-/\\·•'\"~{_EMOJI}\u2800\u3164\uffa0]"
# emoji that stand for the word in sex and betting ads (🐔 🍑 💦 🚗 🐎 🔞 🍆 🦪): content, never a
# separator, so "找🐔" keeps its 🐔 for the lexicon and the model to read. A run holding one is
# skipped in the weak pass (a lookahead in _WEAK_SEP cost every post ~3 us in the probe).
_CONTENT_EMOJI_RE = re.compile("[\U0001F414\U0001F351\U0001F4A6\U0001F697\U0001F40E\U0001F51E\U0001F346\U0001F9AA]")
_STRONG_SEP_RE = re.compile(rf"(?<={_CJK_CLASS}){_STRONG_SEP}{{1,3}}(?={_CJK_CLASS})")
# Up to three weak ones; or up to five mixing strong ones with spaces ("赌 * 球", "赌_ _博"), which
# the strong pass leaves: those count as weak, folded only by the lone-character rule or into a
# known word. Strong ones alone beyond three ("卡****打") stand for a censored word: left alone.
_WEAK_SEP_RE = re.compile(rf"(?<={_CJK_CLASS})(?:{_WEAK_SEP}|{_STRONG_SEP}){{1,5}}(?={_CJK_CLASS})")
_HAS_STRONG_SEP_RE = re.compile(_STRONG_SEP)
_HAS_SPACE_RE = re.compile(r"\s")
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
_SPLIT_PROBE = _class_of(pair[0] for pair in _SPLIT_CHARS)

# Pinyin spellings of harm words, as pypinyin (Style.NORMAL) gives them; spelled out here because
# importing pypinyin costs ~50 MB of dictionaries in every classifying process, and a test holds
# this table equal to pypinyin's output. Initials are curated because most two-letter initials
# are ordinary abbreviations.
_PINYIN: dict[str, tuple[str, ...]] = {
    "赌博": ("du", "bo"), "博彩": ("bo", "cai"), "约炮": ("yue", "pao"), "兼职": ("jian", "zhi"),
    "刷单": ("shua", "dan"), "毒品": ("du", "pin"), "吸毒": ("xi", "du"), "冰毒": ("bing", "du"),
    "大麻": ("da", "ma"), "卖淫": ("mai", "yin"), "嫖娼": ("piao", "chang"), "色情": ("se", "qing"),
    "裸聊": ("luo", "liao"), "援交": ("yuan", "jiao"), "枪支": ("qiang", "zhi"), "自杀": ("zi", "sha"),
    "跳楼": ("tiao", "lou"), "返利": ("fan", "li"), "贷款": ("dai", "kuan"), "网赚": ("wang", "zhuan"),
    "开盒": ("kai", "he"), "杀猪盘": ("sha", "zhu", "pan"), "楼凤": ("lou", "feng"), "外围": ("wai", "wei"),
    "迷药": ("mi", "yao"), "办证": ("ban", "zheng"), "套现": ("tao", "xian"), "洗钱": ("xi", "qian"),
    "百家乐": ("bai", "jia", "le"), "时时彩": ("shi", "shi", "cai"), "微信": ("wei", "xin"),
    "上门": ("shang", "men"), "一夜情": ("yi", "ye", "qing"), "黄片": ("huang", "pian"), "毒贩": ("du", "fan"),
    "自残": ("zi", "can"), "割腕": ("ge", "wan"), "炸弹": ("zha", "dan"), "砍死": ("kan", "si"),
    "杀人": ("sha", "ren"), "代孕": ("dai", "yun"), "跑分": ("pao", "fen"), "接码": ("jie", "ma"),
    "引流": ("yin", "liu"), "老虎机": ("lao", "hu", "ji"), "棋牌": ("qi", "pai"),
}
_PINYIN_TERMS = tuple(_PINYIN)
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


@lru_cache(maxsize=1)
def _pinyin_regex():
    """One regex for all pinyin and mixed char/pinyin spellings of `_PINYIN_TERMS`."""
    alts = []
    targets: dict[str, str] = {}
    for term, sylls in _PINYIN.items():
        parts = [f"(?:{re.escape(ch)}|{re.escape(py)})" for ch, py in zip(term, sylls)]
        alts.append(r"[\s.\-_*]{0,3}".join(parts))  # "fan li", "du - 博", "fan\u3000\u3000li"
        targets["".join(sylls)] = term
    for ini, term in _INITIALS.items():
        alts.append(re.escape(ini))
    pattern = r"(?<![A-Za-z])(?:" + "|".join(sorted(alts, key=len, reverse=True)) + r")(?![A-Za-z])"
    return re.compile(pattern, re.IGNORECASE), targets


@lru_cache(maxsize=1)
def _pinyin_starts() -> re.Pattern:
    """Where a match of `_pinyin_regex` can begin: a term's first character or the first letter
    of its first syllable or initials, not after a letter. Same flags, so the same case folding
    (re's IGNORECASE also folds ſ to s and the Kelvin sign to k)."""
    firsts = {term[0] for term in _PINYIN} | {sylls[0][0] for sylls in _PINYIN.values()} | {i[0] for i in _INITIALS}
    return re.compile(r"(?<![A-Za-z])[" + "".join(re.escape(c) for c in sorted(firsts)) + "]", re.IGNORECASE)


_LATIN_RE = re.compile(r"[A-Za-z]")
_NON_LATIN_RE = re.compile(r"[^A-Za-z]")
_KEEP_CASE_INITIALS = {"QQ"}


@lru_cache(maxsize=1)
def _pinyin_heads() -> frozenset[str]:
    heads = {ini[:2] for ini in _INITIALS}
    for sylls in _PINYIN.values():
        heads.update(py[:2] for py in sylls)
    return frozenset(heads)


_LATIN_RUN_RE = re.compile(r"[A-Za-z]+")


# Pinyin cut inside a syllable ("sh ua dan", "d u b o"): Latin runs that touch no letter or digit,
# one to three spaces, dots, dashes, underscores or asterisks apart, joined when together they
# spell a listed term in full pinyin (the keys of `_pinyin_regex`'s targets). No dictionary of
# English is needed: "play on" spells no listed term.
_FRAG_SEP = r"[\s.\-_*]{1,3}"
_FRAG_PAIR_RE = re.compile(rf"[A-Za-z]{_FRAG_SEP}[A-Za-z]")
_FRAG_RUN_RE = re.compile(rf"(?<![A-Za-z0-9])[A-Za-z]+(?:{_FRAG_SEP}[A-Za-z]+)+(?![A-Za-z0-9])")


@lru_cache(maxsize=1)
def _fragment_table() -> tuple[dict[str, str], frozenset[str], int]:
    """The full-pinyin targets, every proper prefix of one, and the longest one's length."""
    targets = _pinyin_regex()[1]
    prefixes = frozenset(key[:k] for key in targets for k in range(1, len(key)))
    return targets, prefixes, max(map(len, targets))


def _fragment_subs(text: str) -> list[tuple[int, int, str]]:
    """Runs of split pinyin fragments that spell a listed term; longest from each fragment,
    left to right."""
    targets, prefixes, longest = _fragment_table()
    subs = []
    for run in _FRAG_RUN_RE.finditer(text):
        toks = [(m.start(), m.end(), m.group().lower())
                for m in _LATIN_RUN_RE.finditer(text, run.start(), run.end())]
        i = 0
        while i < len(toks) - 1:
            acc = toks[i][2]
            best = None
            # "a" and "I" are English words ("dam a" is no 大麻): a one-letter fragment counts
            # only when every fragment is one letter ("d u b o")
            english = acc in ("a", "i")
            letters = len(acc) == 1
            j = i + 1
            while j < len(toks) and acc in prefixes:
                frag = toks[j][2]
                acc += frag
                if len(acc) > longest:
                    break
                english = english or frag in ("a", "i")
                letters = letters and len(frag) == 1
                if acc in targets and (letters or not english):
                    best = (j, targets[acc])
                j += 1
            if best is None:
                i += 1
            else:
                subs.append((toks[i][0], toks[best[0]][1], best[1]))
                i = best[0] + 1
    return subs


def _pinyin_subs(text: str) -> list[tuple[int, int, str]]:
    first = _LATIN_RE.search(text)
    if first is None:
        return []
    runs = _LATIN_RUN_RE.findall(text, first.start())
    heads = _pinyin_heads()
    # a run like "Checkin" cannot start a pinyin spelling of a listed term: skip the big regex
    spelled = any(run[:2].lower() in heads for run in runs)
    frags = []
    # split fragments start with a run that starts a term (so passes that test) or a lone letter
    if len(runs) > 1 and (spelled or min(map(len, runs)) == 1) and _FRAG_PAIR_RE.search(text, first.start()):
        frags = _fragment_subs(text)
    if not spelled:
        return frags
    rx, targets = _pinyin_regex()
    subs = []
    for m in _finditer_from(rx, _pinyin_starts(), text):
        if frags and any(fs < m.end() and m.start() < fe for fs, fe, _ in frags):
            continue  # already joined as split fragments
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
    if frags:
        subs = sorted(subs + frags)
    return subs


@lru_cache(maxsize=4096)
def _term_for_mixed(raw: str) -> str | None:
    flat = re.sub(r"[\s.\-_*]", "", raw).lower()
    for term, sylls in _PINYIN.items():
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
    if not _LOOKALIKE_PROBE.search(t):
        return
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
        if _CONTENT_EMOJI_RE.search(t, s, e):
            continue
        # (one character left by the strong pass is never a strong one)
        if e - s > 1 and _HAS_STRONG_SEP_RE.search(t, s, e):
            if not _HAS_SPACE_RE.search(t, s, e):
                continue
        elif e - s > 3:
            continue  # four or five spaces or dots are layout
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
_CJK_TAIL_RE = re.compile(f"{_CJK_CLASS}+\\Z")
_CJK_HEAD_RE = re.compile(f"{_CJK_CLASS}+")


def _joins_a_term(t: str, s: int, e: int, fold_terms: frozenset[str]) -> bool:
    """True when the CJK characters on both sides of the separator t[s:e] form a known word."""
    # the run of up to 7 CJK characters ending at s, and the one starting at e
    m = _CJK_TAIL_RE.search(t, max(0, s - (_FOLD_MAX - 1)), s)
    right = _CJK_HEAD_RE.match(t, e, e + _FOLD_MAX - 1)
    if m is None or right is None:
        return False
    left, right = m.group(), right.group()
    tails_of = _fold_splits(fold_terms)
    for k in range(1, len(left) + 1):
        tails = tails_of.get(left[-k:])
        if tails:
            for n in range(1, min(len(right), _FOLD_MAX - k) + 1):
                if right[:n] in tails:
                    return True
    return False


_SPLITS_CACHE: dict[int, tuple[object, dict[str, frozenset[str]]]] = {}


def _fold_splits(fold_terms) -> dict[str, frozenset[str]]:
    """Every way to cut a fold word in two: head -> the tails that complete it. Looking up the
    text left of a separator as a head first means most separators cost one or two dict
    lookups instead of building and testing every head + tail string."""
    cached = _SPLITS_CACHE.get(id(fold_terms))
    if cached is not None and cached[0] is fold_terms:
        return cached[1]
    splits: dict[str, set[str]] = {}
    for word in _BUILTIN_FOLD | set(fold_terms):
        for k in range(1, len(word)):
            splits.setdefault(word[:k], set()).add(word[k:])
    frozen = {h: frozenset(ts) for h, ts in splits.items()}
    if isinstance(fold_terms, frozenset):  # a set may change after this call; rebuild for those
        if len(_SPLITS_CACHE) >= 8:
            _SPLITS_CACHE.clear()
        _SPLITS_CACHE[id(fold_terms)] = (fold_terms, frozen)
    return frozen


def _split_pass(rw: _Rewriter) -> None:
    t = rw.text
    if not _SPLIT_PROBE.search(t):
        return

    def repl(m):
        pair = m.group(0)
        guard = _SPLIT_GUARDS.get(pair)
        if guard and not guard.match(t, m.end()):
            return None
        return _SPLIT_CHARS[pair]

    _regex_pass(rw, "split_char", _SPLIT_RE, repl)


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


def _homophone_pass(rw: _Rewriter) -> None:
    t = rw.text
    if not _HOMOPHONE_PREFILTER.search(t):
        return
    subs = []
    for m in _finditer_from(_HOMOPHONE_RE, _HOMOPHONE_PREFILTER, t):
        idx = int(m.lastgroup[1:])
        _p, rep, guard = _HOMOPHONES[idx]
        if guard(t, m) and rep != m.group(0):
            subs.append((m.start(), m.end(), rep))
    rw.replace("homophone", subs)


def _numeral_pass(rw: _Rewriter) -> None:
    t = rw.text
    if not _HAS_NUMERAL_RE.search(t) or not _NUMERAL_RUN_RE.search(t):
        return  # 一, 二, 三 are everywhere; a run of five is rare

    def repl(m):
        run = m.group(0)
        if not _HAS_NUMERAL_RE.search(run):
            return None
        digits = "".join(_NUMERALS.get(c, c) for c in run if c not in " -")
        return digits if len(digits) >= 5 else None

    _regex_pass(rw, "numeral", _NUMERAL_RUN_RE, repl)


@lru_cache(maxsize=1)
def _rare_probe() -> _CharProbe:
    """Every character the zero-width, full-width, variant, traditional and look-alike passes
    act on. Those passes only remove characters or put ASCII, simplified or plain characters in
    their place, so a text holding none of these (nearly every post) needs none of the five:
    one search instead of five."""
    zero_width = [chr(c) for c in range(0x10000) if _ZERO_WIDTH_RE.match(chr(c))]
    traditional = [chr(c) for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF)) for c in range(lo, hi + 1)
                   if _traditional_probe().match(chr(c))]
    return _CharProbe(set(zero_width) | {chr(c) for c in _FULLWIDTH} | {chr(c) for c in _VARIANT}
                      | set(traditional) | set(_LOOKALIKES))


# "abc123点top", "hg0088。com", "www点xx88点cc", "ag88 . vip": a domain whose dots are written as
# 点 or a Chinese full stop, or spaced out, so that link detectors miss it. Only an ASCII label
# right before and a known top-level domain right after count, so "点了top10" stays (and no
# "me": "…it。me too" is English more often than a link).
_LINK_TLDS = CHEAP_TLDS + "|app|link|com|net|cn|org"
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
    if not text.isascii():
        if "+" in text or _rare_probe().search(text):
            if _ZERO_WIDTH_RE.search(text):
                _regex_pass(rw, "zero_width", _ZERO_WIDTH_RE, lambda m: "")
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
