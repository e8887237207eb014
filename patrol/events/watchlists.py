"""Watch-lists: keyword lists an administrator defines, each with its own burst alerts and event
filter. What ships is one list, the public-safety watch (data/safety_watch.yaml: accidents and
disasters, where a fast-growing incident is a risk to life). No list of political opinion,
protest, religion or journalism ships; a list an administrator adds is theirs, every change is
audited with who made it, and the README says how a list is reviewed.

A term must be specific enough to mean something: a single character, a stop word, a number or
a term that would match a large share of what is stored is refused, saying which term and why.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml

from nlp.minhash import STOP_WORDS

SAFETY_FILE = Path(__file__).resolve().parent.parent / "data" / "safety_watch.yaml"
SAFETY_ID = "public-safety"
MAX_TERMS = 200
MAX_TERM_CHARS = 40
MAX_SHARE = 0.2          # a term matching more than this share of recent posts matches everything
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


class WatchListError(ValueError):
    """A list or term refused; the message says which and why (Chinese: the console shows it)."""


@dataclass(frozen=True)
class WatchList:
    id: str
    name: str
    terms: tuple[str, ...]
    description: str = ""
    active: bool = True
    builtin: bool = False
    updated_by: str = ""
    updated_at: datetime | None = None
    min_count: int = 5

    def matches(self, text: str) -> list[str]:
        return [t for t in self.terms if t in text]


def check_terms(terms, share_of: "callable | None" = None) -> tuple[str, ...]:
    """The cleaned terms, or WatchListError naming the first bad one. `share_of(term)` (optional)
    says what share of recent stored posts contain the term."""
    if isinstance(terms, str):
        terms = re.split(r"[,，\n]", terms)
    cleaned = []
    for raw in terms:
        t = str(raw).strip()
        if not t:
            continue
        where = f"词条“{t}”"
        if len(t) < 2:
            raise WatchListError(f"{where}：单个字符会匹配几乎所有帖子，请用至少两个字的词")
        if len(t) > MAX_TERM_CHARS:
            raise WatchListError(f"{where}：超过 {MAX_TERM_CHARS} 个字符")
        if t in STOP_WORDS or t.isdigit():
            raise WatchListError(f"{where}：是常用词或数字，会匹配几乎所有帖子")
        if share_of is not None:
            share = share_of(t)
            if share > MAX_SHARE:
                raise WatchListError(f"{where}：出现在近期 {share:.0%} 的帖子里，太宽泛（上限 {MAX_SHARE:.0%}）")
        if t not in cleaned:
            cleaned.append(t)
    if not cleaned:
        raise WatchListError("监控词表至少要有一个词条")
    if len(cleaned) > MAX_TERMS:
        raise WatchListError(f"监控词表最多 {MAX_TERMS} 个词条，收到 {len(cleaned)} 个")
    return tuple(cleaned)


def check_id(list_id: str) -> str:
    if not isinstance(list_id, str) or not _ID.match(list_id):
        raise WatchListError(f"词表编号“{list_id}”无效：用 2-40 个小写字母、数字或连字符")
    return list_id


@lru_cache(maxsize=1)
def safety_watch() -> WatchList:
    data = yaml.safe_load(SAFETY_FILE.read_text(encoding="utf-8"))
    return WatchList(id=SAFETY_ID, name=data["name"], description=data["description"],
                     terms=check_terms(data["terms"]), builtin=True, min_count=int(data["min_count"]))
