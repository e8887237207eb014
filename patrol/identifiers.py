"""Personal identifiers in a post (ID, mobile and bank-card numbers, addresses, plates), found by
nlp.detectors, and their masked form.

The console shows them masked by default; revealing one is a role's right and an audit event.
A masked value keeps the length of the original (in code points), so evidence offsets into the
text still land on the same characters.
"""
from __future__ import annotations

from dataclasses import dataclass

from nlp.detectors import detect

# Contact ids (WeChat, QQ, links) stay visible: in an ad they are the harm the officer acts on.
MASKED_KINDS = frozenset({"cn_id_number", "mobile", "bank_card", "address", "plate_number"})
KIND_ZH = {"cn_id_number": "身份证号", "mobile": "手机号", "bank_card": "银行卡号", "address": "住址",
           "plate_number": "车牌号"}


@dataclass(frozen=True)
class Identifier:
    index: int  # the n-th identifier of the text: how a reveal names it
    kind: str
    start: int
    end: int
    value: str

    @property
    def masked(self) -> str:
        return mask(self.kind, self.value)


def find_identifiers(text: str) -> list[Identifier]:
    """The personal identifiers of `text`, in order, never overlapping."""
    found: list[Identifier] = []
    end = 0
    for d in detect(text or ""):
        if d.kind not in MASKED_KINDS or d.start < end:
            continue
        found.append(Identifier(len(found), d.kind, d.start, d.end, text[d.start:d.end]))
        end = d.end
    return found


def mask(kind: str, value: str) -> str:
    """Digits and letters hidden but a few at the ends (enough to tell two numbers apart), the
    rest of an address hidden after its first two characters; separators kept."""
    chars = list(value)
    if kind == "address":
        keep = set(range(min(2, len(chars))))
    elif kind == "plate_number":
        keep = set(range(min(2, len(chars))))
    else:
        alnum = [i for i, c in enumerate(chars) if c.isalnum()]
        head = 3 if kind in ("mobile", "cn_id_number") else 4
        keep = set(alnum[:head]) | set(alnum[-4:]) if len(alnum) > head + 4 else set(alnum[:1])
    return "".join(c if i in keep or not (c.isalnum() or "\u4e00" <= c <= "\u9fff") else "*"
                   for i, c in enumerate(chars))


def mask_all(text: str) -> str:
    """`text` with every identifier masked (queue excerpts, post pages)."""
    out, pos = [], 0
    for ident in find_identifiers(text):
        out += [text[pos:ident.start], ident.masked]
        pos = ident.end
    out.append(text[pos:])
    return "".join(out)
