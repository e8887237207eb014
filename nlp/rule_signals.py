"""The dense block of rule signals the model reads beside the hashed text: lexicon hits per
category, counter-speech, contact and trade words, detector hits, shapes such as long digit
runs, handles and links."""
from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

from dataclasses import dataclass

from nlp.categories import HARM_CATEGORIES

# --- dense rule signals --------------------------------------------------------------------------

# No length feature: the public clean text is long and every harmful source is short, so a
# length bucket became the strongest "self-harm" weight of all ("下班一起吃饭吧" -> 0.93).
_LONG_DIGITS = re.compile(r"[0-9]{5,}")
_HANDLE = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z0-9_\-]*[0-9])(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{5,}")
_LINK = re.compile(r"https?://|www\.|\.(?:top|vip|xyz|cc|club|icu|me|fun|app|link|site|shop)\b", re.I)
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]")
_DETECTOR_KINDS = ("phone", "id", "card", "contact", "address", "link", "plate")

DENSE_NAMES: tuple[str, ...] = (
    tuple(f"lex:{c}" for c in HARM_CATEGORIES)
    + tuple(f"lexweak:{c}" for c in HARM_CATEGORIES)
    + tuple(f"counter:{c}" for c in HARM_CATEGORIES)
    + ("signal:contact", "signal:trade")
    + tuple(f"detector:{k}" for k in _DETECTOR_KINDS)
    + ("shape:long_digits", "shape:handle", "shape:link", "shape:emoji")
)
_DENSE_POS = {name: i for i, name in enumerate(DENSE_NAMES)}


@dataclass(frozen=True)
class Prepared:
    """One text as the model sees it: the normalised text and what the rules found in it.

    `lexicon` is anything with `.hits` (category, weight, weak) and `.exceptions` (category,
    factor), e.g. `nlp.lexicon.Match`; `detections` anything with a `.kind` or `.name`.
    """

    raw: str
    normalised: str
    lexicon: Any = None
    detections: Sequence[Any] = ()


# nlp.detectors kinds -> the model's detector features; unknown kinds are ignored, so a new
# detector changes nothing until the model is retrained with it.
DETECTOR_FEATURE = {
    "mobile": "phone", "cn_id_number": "id", "bank_card": "card", "address": "address",
    "plate_number": "plate", "wechat_id": "contact", "qq_number": "contact", "telegram": "contact",
    "cheap_url": "link",
}


def _detector_kind(d: Any) -> str | None:
    return DETECTOR_FEATURE.get(str(getattr(d, "kind", "")))


def dense_row(p: Prepared) -> np.ndarray:
    v = np.zeros(len(DENSE_NAMES), dtype=np.float32)
    match = p.lexicon
    if match is not None:
        for h in getattr(match, "hits", ()):
            cat = h.category
            if cat in ("contact", "trade"):
                v[_DENSE_POS[f"signal:{cat}"]] += 0.5
            elif f"lex:{cat}" in _DENSE_POS:
                v[_DENSE_POS[("lexweak:" if getattr(h, "weak", False) else "lex:") + cat]] += float(h.weight)
        for e in getattr(match, "exceptions", ()):
            cats = HARM_CATEGORIES if e.category == "*" else (e.category,)
            for cat in cats:
                if f"counter:{cat}" in _DENSE_POS:
                    v[_DENSE_POS[f"counter:{cat}"]] = max(v[_DENSE_POS[f"counter:{cat}"]], 1.0 - float(e.factor))
    for d in p.detections or ():
        kind = _detector_kind(d)
        if kind:
            v[_DENSE_POS[f"detector:{kind}"]] = 1.0
    text = p.normalised
    v[_DENSE_POS["shape:long_digits"]] = 1.0 if _LONG_DIGITS.search(text) else 0.0
    v[_DENSE_POS["shape:handle"]] = 1.0 if _HANDLE.search(text) else 0.0
    v[_DENSE_POS["shape:link"]] = 1.0 if _LINK.search(text) else 0.0
    v[_DENSE_POS["shape:emoji"]] = 1.0 if _EMOJI.search(p.raw) else 0.0
    np.minimum(v, 1.5, out=v)
    return v


_SIGNAL_POS = {c: _DENSE_POS[f"signal:{c}"] for c in ("contact", "trade")}
_LEX_POS = {(c, weak): _DENSE_POS[("lexweak:" if weak else "lex:") + c] for c in HARM_CATEGORIES for weak in (False, True)}
_COUNTER_POS = {c: (_DENSE_POS[f"counter:{c}"],) for c in HARM_CATEGORIES}
_COUNTER_POS["*"] = tuple(_DENSE_POS[f"counter:{c}"] for c in HARM_CATEGORIES)
_DETECTOR_POS = {kind: _DENSE_POS[f"detector:{f}"] for kind, f in DETECTOR_FEATURE.items()}
# what the shapes need before their patterns can match: five handle characters in a row (which
# five digits are too), a letter a link starts with; the plain classes are searched several
# times faster than the patterns, and most posts have neither
_RUN5 = re.compile(r"[A-Za-z0-9_\-]{5}")
_LINK_NEEDS = re.compile(r"[hHwW.]")
_POS_LONG_DIGITS = _DENSE_POS["shape:long_digits"]
_POS_HANDLE = _DENSE_POS["shape:handle"]
_POS_LINK = _DENSE_POS["shape:link"]
_POS_EMOJI = _DENSE_POS["shape:emoji"]


def dense_matrix(prepared: Sequence[Prepared]) -> np.ndarray:
    """`dense_row` of every item as one (n, len(DENSE_NAMES)) float32 array, bit for bit: weights
    are added in float32 in the same order (`np.add.at` is sequential), counter-speech takes the
    same maxima, so a model trained on `dense_row` reads the same numbers."""
    v = np.zeros((len(prepared), len(DENSE_NAMES)), dtype=np.float32)
    add_r, add_c, add_w = [], [], []
    max_r, max_c, max_w = [], [], []
    set_r, set_c = [], []
    for i, p in enumerate(prepared):
        match = p.lexicon
        if match is not None:
            for h in getattr(match, "hits", ()):
                cat = h.category
                pos = _SIGNAL_POS.get(cat)
                if pos is not None:
                    add_r.append(i)
                    add_c.append(pos)
                    add_w.append(0.5)
                    continue
                pos = _LEX_POS.get((cat, bool(getattr(h, "weak", False))))
                if pos is not None:
                    add_r.append(i)
                    add_c.append(pos)
                    add_w.append(float(h.weight))
            for e in getattr(match, "exceptions", ()):
                for pos in _COUNTER_POS.get(e.category, ()):
                    max_r.append(i)
                    max_c.append(pos)
                    max_w.append(1.0 - float(e.factor))
        for d in p.detections or ():
            pos = _DETECTOR_POS.get(str(getattr(d, "kind", "")))
            if pos is not None:
                set_r.append(i)
                set_c.append(pos)
        text = p.normalised
        if _RUN5.search(text):
            for pos, rx in ((_POS_LONG_DIGITS, _LONG_DIGITS), (_POS_HANDLE, _HANDLE)):
                if rx.search(text):
                    set_r.append(i)
                    set_c.append(pos)
        if _LINK_NEEDS.search(text) and _LINK.search(text):
            set_r.append(i)
            set_c.append(_POS_LINK)
        if _EMOJI.search(p.raw):
            set_r.append(i)
            set_c.append(_POS_EMOJI)
    if add_r:
        np.add.at(v, (np.array(add_r), np.array(add_c)), np.array(add_w, dtype=np.float32))
    if max_r:
        np.maximum.at(v, (np.array(max_r), np.array(max_c)), np.array(max_w, dtype=np.float32))
    if set_r:
        v[np.array(set_r), np.array(set_c)] = 1.0
    np.minimum(v, 1.5, out=v)
    return v


