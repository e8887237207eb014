"""The normaliser's passes. Each finds spans of the current text to replace and hands them to
the rewriter; each first checks cheaply whether it has anything to do.
"""
from __future__ import annotations

import re
from functools import lru_cache

from nlp.char_tables import (_CJK_CLASS, _FULLWIDTH, _LOOKALIKE_PROBE, _LOOKALIKE_RE, _LOOKALIKES, _NUMERAL_RUN_RE,
                             _NUMERALS, _PLUS_RE, _VARIANT, _ZERO_WIDTH_RE, _CharProbe, _class_of, _finditer_from,
                             _HAS_NUMERAL_RE)
from nlp.detectors import CHEAP_TLDS
from nlp.evasions import SPLIT_CHARS, SPLIT_GUARDS
from nlp.homophones import _BUILTIN_FOLD, _HOMOPHONE_PREFILTER, _HOMOPHONE_RE, _HOMOPHONES
from nlp.offset_rewriter import _Rewriter

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

# 拆字 (split characters): the table is shared with the silver generator
_SPLIT_CHARS = SPLIT_CHARS
_SPLIT_GUARDS = {pair: re.compile(guard) for pair, guard in SPLIT_GUARDS.items()}
_SPLIT_RE = re.compile("|".join(map(re.escape, _SPLIT_CHARS)))
_SPLIT_PROBE = _class_of(pair[0] for pair in _SPLIT_CHARS)


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
