"""Pinyin and initials of a curated list of harm words, and finding them in text ("dubo",
"du博", "sh ua dan", "yp"); the normaliser's pinyin pass writes what `_pinyin_subs` finds.
"""
from __future__ import annotations

import re
from functools import lru_cache

from nlp.char_tables import _finditer_from

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
