"""Pattern detectors for personal identifiers and contact hand-offs, with checksums where they exist.

Each detector takes the normalised text and returns Detection spans in its offsets; the
Analyzer maps them back to the original text. Checksums and plausibility checks keep random
digit runs (order numbers, prices) from being taken for ID or card numbers.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Detection:
    kind: str  # cn_id_number | mobile | bank_card | address | plate_number | wechat_id | qq_number | telegram | cheap_url
    start: int
    end: int
    text: str


# ---------------------------------------------------------------- mainland ID numbers (GB 11643)

# first two digits: the province-level region codes in use
_ID_REGIONS = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"(?<![0-9])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def is_valid_cn_id(number: str, today: _dt.date | None = None) -> bool:
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if number[:2] not in _ID_REGIONS:
        return False
    try:
        born = _dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    today = today or _dt.date.today()
    if not (_dt.date(1900, 1, 1) <= born <= today):
        return False
    return id_check_digit(number[:17]) == number[17].upper()


def find_id_numbers(text: str) -> list[Detection]:
    return [Detection("cn_id_number", m.start(), m.end(), m.group(0)) for m in _ID_RE.finditer(text) if is_valid_cn_id(m.group(0))]


# ---------------------------------------------------------------- mobile numbers

_MOBILE_RE = re.compile(r"(?<![0-9])(?:\+?86[ \-]?)?(1[3-9]\d)([ \-]?)(\d{4})\2(\d{4})(?![0-9])")


def find_mobiles(text: str) -> list[Detection]:
    return [Detection("mobile", m.start(), m.end(), m.group(0)) for m in _MOBILE_RE.finditer(text)]


# ---------------------------------------------------------------- bank cards

_CARD_RE = re.compile(r"(?<![0-9])(?:\d{4}[ \-]){3}\d{4}(?:[ \-]?\d{1,3})?(?![0-9])|(?<![0-9])\d{16,19}(?![0-9])")
# UnionPay 62, Visa 4, Mastercard 51-55 and 2221-2720, JCB 35, Amex 34/37: what a Chinese post would carry
_BIN_RE = re.compile(r"62|4|5[1-5]|2[2-7]|35|3[47]")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_plausible_card(digits: str) -> bool:
    return 16 <= len(digits) <= 19 and digits.isdigit() and bool(_BIN_RE.match(digits)) and luhn_ok(digits)


def find_bank_cards(text: str, exclude: list[Detection] = ()) -> list[Detection]:
    taken = [(d.start, d.end) for d in exclude]
    out = []
    for m in _CARD_RE.finditer(text):
        digits = re.sub(r"[ \-]", "", m.group(0))
        if not is_plausible_card(digits):
            continue
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue  # an ID number that happens to pass Luhn
        out.append(Detection("bank_card", m.start(), m.end(), m.group(0)))
    return out


# ---------------------------------------------------------------- addresses

_HAN = "[\u4e00-\u9fff]"
_ADDRESS_RE = re.compile(
    rf"(?:{_HAN}{{2,7}}?(?:省|自治区))?(?:{_HAN}{{1,7}}?市)?(?:{_HAN}{{1,7}}?(?:区|县|镇|乡))?"
    rf"{_HAN}{{1,8}}?(?:路|街|大道|巷|弄|胡同|小区|花园|村)"
    rf"(?:\d{{1,5}}(?:号院|号|弄))?(?:\d{{1,3}}(?:栋|幢|号楼|座))?(?:\d{{1,3}}单元)?(?:\d{{1,5}}(?:室|房|号房))?"
)
# where a greedy match may have swallowed the words before the address
_ADDRESS_LEAD_RE = re.compile(r".*(?:住在|住址是|住址|地址是|地址|家住|位于|就在|在|是|到)[:：]?")
_ADDRESS_UNITS_RE = re.compile(r"\d+(?:号|弄|栋|幢|号楼|座|单元|室|房)")


def find_addresses(text: str) -> list[Detection]:
    out = []
    if not _ADDRESS_UNITS_RE.search(text):
        # every address kept below holds a house number; without one anywhere, spare the
        # backtracking address pattern (the costliest detector by far)
        return out
    for m in _ADDRESS_RE.finditer(text):
        span = m.group(0)
        # an address needs a house number and at least two levels (road + number, or building + room)
        if len(_ADDRESS_UNITS_RE.findall(span)) < 1:
            continue
        lead = _ADDRESS_LEAD_RE.match(span)
        start = m.start() + (lead.end() if lead and lead.end() < len(span) - 2 else 0)
        tail = text[start:m.end()]
        if not re.search(r"(?:路|街|大道|巷|弄|胡同|小区|花园|村)", tail):
            continue
        out.append(Detection("address", start, m.end(), tail))
    return out


# ---------------------------------------------------------------- plate numbers

_PLATE_RE = re.compile(
    r"(?<![A-Za-z0-9])[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·\s]?[A-HJ-NP-Z0-9]{5,6}(?![A-Za-z0-9])"
)


def find_plates(text: str) -> list[Detection]:
    return [Detection("plate_number", m.start(), m.end(), m.group(0)) for m in _PLATE_RE.finditer(text)]


# ---------------------------------------------------------------- contact hand-offs

_WECHAT_RE = re.compile(r"(?:微信|vx|wx)号?\s?[:：]?\s?([A-Za-z][-_A-Za-z0-9]{5,19})(?![-_A-Za-z0-9])", re.IGNORECASE)
_QQ_RE = re.compile(r"(?:qq|QQ|Qq|qQ)号?\s?(?:群)?\s?[:：]?\s?([1-9]\d{4,10})(?![0-9])")
_TG_HANDLE_RE = re.compile(r"(?:纸飞机|飞机|tg|telegram|电报)号?\s?[:：]?\s?(@[A-Za-z][A-Za-z0-9_]{4,31})", re.IGNORECASE)
_TG_LINK_RE = re.compile(r"(?:https?://)?t\.me/[A-Za-z0-9_+/]{3,}", re.IGNORECASE)
# top-level domains that cheap, throwaway ad sites use (nlp.normalise folds disguised dots before them too)
CHEAP_TLDS = "top|vip|xyz|cc|club|icu|buzz|site|online|fun|shop|wang|ink|ltd|live|work|bet|win|asia|tk|ml|ga|cf|gq|cyou|sbs|cfd|rest|bar"
_URL_RE = re.compile(
    rf"(?<![A-Za-z0-9@.\-])(?:https?://)?(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{{0,61}}[A-Za-z0-9])?\.)+(?:{CHEAP_TLDS})(?![A-Za-z0-9\-])(?:[/?#][\x21-\x7e]*)?",
    re.IGNORECASE,
)


def find_contacts(text: str) -> list[Detection]:
    out = []
    for m in _WECHAT_RE.finditer(text):
        out.append(Detection("wechat_id", m.start(1), m.end(1), m.group(1)))
    for m in _QQ_RE.finditer(text):
        out.append(Detection("qq_number", m.start(1), m.end(1), m.group(1)))
    for m in _TG_HANDLE_RE.finditer(text):
        out.append(Detection("telegram", m.start(1), m.end(1), m.group(1)))
    for m in _TG_LINK_RE.finditer(text):
        out.append(Detection("telegram", m.start(), m.end(), m.group(0)))
    for m in _URL_RE.finditer(text):
        out.append(Detection("cheap_url", m.start(), m.end(), m.group(0)))
    return out


# ---------------------------------------------------------------- all of them

_DIGITS_RE = re.compile(r"\d{4}")
_ADDRESS_HINT_RE = re.compile(r"路|街|大道|巷|弄|胡同|小区|花园|村")
_CONTACT_HINT_RE = re.compile(r"微信|vx|wx|qq|飞机|tg|telegram|电报|t\.me|\.[a-z]{2,6}\b", re.IGNORECASE)
# the characters a contact hint can begin with: a plain class is searched far faster than the
# case-insensitive alternation, and most texts have none of them
_CONTACT_START_RE = re.compile(r"[微vVwWqQ飞tT电.]")


def detect(text: str) -> list[Detection]:
    """Every detection in `text`, sorted by position. Cheap guards skip detectors with no chance."""
    out: list[Detection] = []
    has_digits = bool(_DIGITS_RE.search(text))
    if has_digits:
        ids = find_id_numbers(text)
        out += ids
        mobiles = [d for d in find_mobiles(text) if not any(i.start <= d.start < i.end for i in ids)]
        out += mobiles
        out += find_bank_cards(text, exclude=ids + mobiles)
    if _ADDRESS_HINT_RE.search(text):
        out += find_addresses(text)
    if has_digits and not text.isascii():
        out += find_plates(text)
    if _CONTACT_START_RE.search(text) and _CONTACT_HINT_RE.search(text):
        out += find_contacts(text)
    out.sort(key=lambda d: (d.start, d.end))
    return out
