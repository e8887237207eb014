"""What makes alerts one group: near-duplicate text, the same contact id, the same thread.

Pure functions: `group_keys(alert)` gives the keys under which an alert's lead is found, and
`near_duplicate(a, b)` confirms a SimHash candidate. The store (patrol/store/groups.py) keeps the
keys of every active lead and attaches a new alert to the lead that holds one of its keys
(docs/EVIDENCE-AND-GROUPS.md).

- Near-duplicates: a MinHash signature (PERMUTATIONS values) over character 3-grams of the
  analyser's normalised text (so 菠.菜 and 菠菜 agree). Short posts make SimHash too jumpy (one
  changed character of a 40-character ad moves ~10 of 64 bits); MinHash estimates the Jaccard
  similarity of the 3-gram sets directly. The signature is cut into BANDS bands of ROWS values:
  a band is an index key (LSH), and the whole signature confirms (>= NEAR_AGREEMENT equal).
- Contact ids: WeChat, QQ, Telegram and links (nlp.detectors.find_contacts) in the normalised
  text, case-folded: one seller's ads are one case, whichever category led each ad.
- Threads: the same upstream thread and the same category (a fraud reply in a self-harm thread
  is not the self-harm case).
"""
from __future__ import annotations

import hashlib
import re

import numpy as np

from nlp.detectors import find_contacts
from patrol.alerts import Alert
from patrol.posts import analysed_text

PERMUTATIONS = 16
ROWS = 2
BANDS = PERMUTATIONS // ROWS
# At least this many of the PERMUTATIONS values equal: an estimated Jaccard similarity of 0.6.
NEAR_AGREEMENT = 10
# Shorter texts (after dropping blanks) give no near-duplicate key: "加微信" is in too many posts.
MIN_CHARS = 12
CONTACT_KINDS = ("wechat_id", "qq_number", "telegram", "cheap_url")

_BLANKS = re.compile(r"\s+")
_PRIME = (1 << 61) - 1
# Fixed, so every process computes the same signature: (a, b) of h -> (a*h + b) mod p.
_PERMS = [(int.from_bytes(hashlib.sha256(f"a{i}".encode()).digest()[:8], "big") % (_PRIME - 1) + 1,
           int.from_bytes(hashlib.sha256(f"b{i}".encode()).digest()[:8], "big") % _PRIME) for i in range(PERMUTATIONS)]


def minhash(text: str) -> tuple[int, ...] | None:
    """The MinHash signature of `text`'s character 3-grams (blanks dropped), or None when the
    text is too short to say anything."""
    compact = _BLANKS.sub("", text)
    if len(compact) < MIN_CHARS:
        return None
    grams = {int.from_bytes(hashlib.blake2b(compact[i:i + 3].encode("utf-8"), digest_size=8).digest(), "big")
             for i in range(len(compact) - 2)}
    h = np.fromiter(grams, dtype=np.uint64, count=len(grams))
    return tuple(int(v) & 0xFFFFFFFF for v in _mod_mul_add(h[None, :]).min(axis=1))


# The permutations' (a, b), and a split in 31-bit halves, for _mod_mul_add.
_A = np.array([a for a, _ in _PERMS], dtype=np.uint64)[:, None]
_B = np.array([b for _, b in _PERMS], dtype=np.uint64)[:, None]
_P = np.uint64(_PRIME)
_LOW31 = np.uint64((1 << 31) - 1)
_LOW30 = np.uint64((1 << 30) - 1)


def _mod61(x):
    """x mod 2**61 - 1 for uint64 x (2**61 = 1 there, so the high bits fold onto the low ones)."""
    x = (x & _P) + (x >> np.uint64(61))
    x = (x & _P) + (x >> np.uint64(61))
    return np.where(x >= _P, x - _P, x)


def _mod_mul_add(h):
    """(a * h + b) mod 2**61 - 1 for every permutation and hash, exactly as Python's integers give
    it (tested against them), in uint64 numpy arithmetic: a and h mod p are cut in 31-bit halves,
    so no partial product overflows. Once per alert of every ingest batch: the pure-Python loop
    over 16 permutations and every 3-gram was the largest part of opening a batch's alerts."""
    h = _mod61(h)
    a_hi, a_lo = _A >> np.uint64(31), _A & _LOW31
    h_hi, h_lo = h >> np.uint64(31), h & _LOW31
    high = (a_hi * h_hi) << np.uint64(1)              # a_hi*h_hi * 2**62 = 2 * a_hi*h_hi
    mid = a_hi * h_lo + a_lo * h_hi                     # times 2**31
    mid = (mid >> np.uint64(30)) + ((mid & _LOW30) << np.uint64(31))  # 2**61 = 1
    return _mod61(_mod61(high + mid) + _mod61(a_lo * h_lo) + _B)


def agreement(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    return sum(x == y for x, y in zip(a, b))


def signature_hex(sig: tuple[int, ...] | None) -> str:
    return "" if sig is None else "".join(f"{v:08x}" for v in sig)


def from_hex(value: str) -> tuple[int, ...]:
    return tuple(int(value[i:i + 8], 16) for i in range(0, len(value), 8))


def near_duplicate(a_hex: str, b_hex: str) -> bool:
    return bool(a_hex and b_hex) and agreement(from_hex(a_hex), from_hex(b_hex)) >= NEAR_AGREEMENT


def normalised_of(alert: Alert) -> str:
    """The text the analyser saw after undoing evasions; the original when it kept none."""
    return str((alert.analysis or {}).get("normalised") or analysed_text(alert.title, alert.text))


def group_keys(alert: Alert, thread_id: str = "") -> tuple[list[tuple[str, str]], str]:
    """([(key, reason)], MinHash signature hex) for a post alert; ([], "") for an ops alert.

    reason is what the console shows: near_duplicate, contact or thread."""
    if alert.is_ops:
        return [], ""
    text = normalised_of(alert)
    keys: list[tuple[str, str]] = []
    sig = minhash(text)
    if sig is not None:
        keys += [(f"m{band}:" + signature_hex(sig[band * ROWS:(band + 1) * ROWS]), "near_duplicate")
                 for band in range(BANDS)]
    contacts = {(d.kind, d.text.casefold()) for d in find_contacts(text) if d.kind in CONTACT_KINDS}
    keys += [(f"c:{kind}:{value}"[:200], "contact") for kind, value in sorted(contacts)]
    if thread_id:
        keys.append((f"t:{alert.category}:{alert.source}:{thread_id}"[:200], "thread"))
    return keys, signature_hex(sig)
