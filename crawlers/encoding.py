"""Choosing the right charset for a page whose declaration may be wrong.

Chinese sites often declare UTF-8 and send GBK (or the reverse) after a template change. The
declared charset is tried first, then GB18030 (a superset of GBK and GB2312) and UTF-8, each
strictly; the first clean decode wins. Bytes that are valid multi-byte UTF-8 are taken as UTF-8
even when GBK is declared, because GBK text is almost never valid UTF-8 by accident while
UTF-8 text often decodes as (wrong) GBK without error. crawlers.charset builds on this to tell
Big5 from GBK; spiders call crawlers.charset.decode_best.
"""
from __future__ import annotations

import codecs

_GB_FAMILY = {"gbk", "gb2312", "gb18030", "cp936", "hz", "gb_2312-80"}


def _canonical(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding, errors="strict")
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def best_encoding(body: bytes, declared: str | None) -> str:
    declared = _canonical(declared) or "utf-8"
    if declared in _GB_FAMILY or declared.startswith("gb"):
        if not body.isascii() and _decodes(body, "utf-8"):
            return "utf-8"
    candidates = [declared, "gb18030", "utf-8"]
    for candidate in candidates:
        if _decodes(body, candidate):
            return candidate
    return declared  # nothing decodes cleanly: keep the declaration and let replacement chars show
