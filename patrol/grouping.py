"""What makes alerts one group: near-duplicate text, the same contact id, the same thread.

Pure functions: `group_keys(alert)` gives the keys under which an alert's lead is found, and
`near_duplicate(a, b)` confirms a SimHash candidate. The store (patrol/store/groups.py) keeps the
keys of every active lead and attaches a new alert to the lead that holds one of its keys
(docs/EVIDENCE-AND-GROUPS.md).

- Near-duplicates: a 64-bit SimHash over character 3-grams of the analyser's normalised text
  (so 菠.菜 and 菠菜 agree). Two texts within NEAR_BITS bits are near-duplicates; the hash is cut
  into BANDS bands, and by the pigeonhole principle two such hashes share at least one band
  exactly, so a band is an index key and the full hash confirms.
- Contact ids: WeChat, QQ, Telegram and links (nlp.detectors.find_contacts) in the normalised
  text, case-folded: one seller's ads are one case, whichever category led each ad.
- Threads: the same upstream thread and the same category (a fraud reply in a self-harm thread
  is not the self-harm case).
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter

from nlp.detectors import find_contacts
from patrol.alerts import Alert
from patrol.posts import analysed_text

SIMHASH_BITS = 64
BANDS = 4
BAND_BITS = SIMHASH_BITS // BANDS
# At most this many differing bits: 3 of 64 is the usual near-duplicate cut for shingled text.
NEAR_BITS = 3
# Shorter texts (after dropping blanks) give no near-duplicate key: "加微信" is in too many posts.
MIN_SIMHASH_CHARS = 12
CONTACT_KINDS = ("wechat_id", "qq_number", "telegram", "cheap_url")

_BLANKS = re.compile(r"\s+")


def simhash(text: str) -> int | None:
    """The 64-bit SimHash of `text`'s character 3-grams (blanks dropped), or None when the text
    is too short to say anything."""
    compact = _BLANKS.sub("", text)
    if len(compact) < MIN_SIMHASH_CHARS:
        return None
    grams = Counter(compact[i:i + 3] for i in range(len(compact) - 2))
    weights = [0] * SIMHASH_BITS
    for gram, count in grams.items():
        h = int.from_bytes(hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest(), "big")
        for bit in range(SIMHASH_BITS):
            weights[bit] += count if (h >> bit) & 1 else -count
    return sum(1 << bit for bit, w in enumerate(weights) if w > 0)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def simhash_hex(value: int | None) -> str:
    return "" if value is None else f"{value:016x}"


def near_duplicate(a_hex: str, b_hex: str) -> bool:
    return bool(a_hex and b_hex) and hamming(int(a_hex, 16), int(b_hex, 16)) <= NEAR_BITS


def normalised_of(alert: Alert) -> str:
    """The text the analyser saw after undoing evasions; the original when it kept none."""
    return str((alert.analysis or {}).get("normalised") or analysed_text(alert.title, alert.text))


def group_keys(alert: Alert, thread_id: str = "") -> tuple[list[tuple[str, str]], str]:
    """([(key, reason)], simhash hex) for a post alert; ([], "") for an ops alert.

    reason is what the console shows: near_duplicate, contact or thread."""
    if alert.is_ops:
        return [], ""
    text = normalised_of(alert)
    keys: list[tuple[str, str]] = []
    sh = simhash(text)
    if sh is not None:
        mask = (1 << BAND_BITS) - 1
        keys += [(f"s{band}:{(sh >> (band * BAND_BITS)) & mask:04x}", "near_duplicate") for band in range(BANDS)]
    contacts = {(d.kind, d.text.casefold()) for d in find_contacts(text) if d.kind in CONTACT_KINDS}
    keys += [(f"c:{kind}:{value}"[:200], "contact") for kind, value in sorted(contacts)]
    if thread_id:
        keys.append((f"t:{alert.category}:{alert.source}:{thread_id}"[:200], "thread"))
    return keys, simhash_hex(sh)
