"""The query AST as SQLite: one ranked FTS5 MATCH where possible, SQL conditions for the rest.

The words and phrases ANDed at the top of a query become a single FTS5 expression, so bm25 can rank
by them. Field filters and dates become conditions on the `posts` table; a date range also becomes a
bound on the time-ordered rowid, which FTS5 and the posts B-tree both use directly
(measured 5-7x faster than filtering a timestamp column). Text nested under an OR with a
filter (`博彩 OR category:gambling`) is answered by a rowid sub-select and is not ranked.

A single word matches every token column, sub-word parts included (天气 finds 今天天气); a phrase
only the word columns, where tokens are consecutive text (see search/tokens.py). The normalised
text of a post (菠.菜 → 博彩) has a word and a part column of its own beside the title and body, so
each word or phrase matches where the original OR the normalised text says it.

FTS5 strings are built only from segmenter tokens, which contain letters, digits and symbols
(emoji) alone, and each is double-quoted: no character of the user's query reaches FTS5 or SQL as
syntax.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from search.query import And, DateRange, Field, Node, Not, Or, Text, is_text_only
from search.times import EPOCH, epoch_us

SLOT_BITS = 20  # rowid = published second << SLOT_BITS | slot: 1M posts per second before overflow

_SECOND = timedelta(seconds=1)
_COLUMNS = {"source": "p.source", "author": "p.author", "status": "p.status", "primary": "p.primary_category"}


def rowid_floor(moment: datetime) -> int:
    """The smallest rowid a post published at or after `moment` can have."""
    return ((moment - EPOCH) // _SECOND) << SLOT_BITS


def rowid_ceiling(moment: datetime) -> int:
    """Every post published before `moment` has a rowid below this."""
    seconds, rest = divmod(moment - EPOCH, _SECOND)
    return (seconds + (1 if rest else 0)) << SLOT_BITS


# The FTS5 columns: words (phrases match here) and parts (single words also match here).
WORD_COLUMNS = ("title", "body", "norm")
PART_COLUMNS = ("title_parts", "body_parts", "norm_parts")
_PHRASE_COLUMNS = "{" + " ".join(WORD_COLUMNS) + "} : "


def fts(node: Node) -> str:
    """An FTS5 expression for a text-only subtree."""
    if isinstance(node, Text):
        quoted = '"' + " ".join(node.tokens).replace('"', '""') + '"'
        return quoted if len(node.tokens) == 1 else _PHRASE_COLUMNS + quoted
    if isinstance(node, Or):
        return "(" + " OR ".join(fts(c) for c in node.children) + ")"
    if isinstance(node, And):
        positive = [fts(c) for c in node.children if not isinstance(c, Not)]
        expr = "(" + " AND ".join(positive) + ")"
        for c in node.children:
            if isinstance(c, Not):
                expr = f"({expr} NOT {fts(c.child)})"
        return expr
    raise TypeError(f"not a text-only node: {node!r}")


@dataclass
class Plan:
    """What a search runs: `match` (FTS5, ranked) or None, and conditions ANDed with it.

    Conditions refer to `p` (posts) and `{rowid}`, the driving table's rowid, so that a date bound
    lands on the FTS5 rowid when there is a MATCH and on the posts rowid otherwise."""

    match: str | None = None
    conditions: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)

    def add(self, sql: str, *params) -> None:
        self.conditions.append(sql)
        self.params.extend(params)

    def add_dates(self, start: datetime | None, end: datetime | None) -> None:
        if start is not None:
            self.add("{rowid} >= ? AND p.published_us >= ?", rowid_floor(start), epoch_us(start))
        if end is not None:
            self.add("{rowid} < ? AND p.published_us < ?", rowid_ceiling(end), epoch_us(end))


def plan(root: Node | None) -> Plan:
    out = Plan()
    if root is None:
        return out
    parts = list(root.children) if isinstance(root, And) else [root]
    text = [n for n in parts if is_text_only(n)]
    if any(not isinstance(n, Not) for n in text):
        out.match = fts(text[0] if len(text) == 1 else And(tuple(text), text[0].position))
        parts = [n for n in parts if not is_text_only(n)]
    for node in parts:
        if isinstance(node, DateRange):
            out.add_dates(node.start, node.end)
        else:
            sql, params = condition(node)
            out.add(sql, *params)
    return out


def condition(node: Node) -> tuple[str, list]:
    """A SQL condition on `p` for any subtree (used below the top level, so unranked)."""
    if is_text_only(node) and not isinstance(node, Not):
        return "p.rowid IN (SELECT rowid FROM post_fts WHERE post_fts MATCH ?)", [fts(node)]
    if isinstance(node, Field):
        if node.name == "category":
            return "p.rowid IN (SELECT rowid FROM post_category WHERE category = ?)", [node.value]
        return f"{_COLUMNS[node.name]} = ?", [node.value]
    if isinstance(node, DateRange):
        sql, params = [], []
        if node.start is not None:
            sql.append("p.published_us >= ?")
            params.append(epoch_us(node.start))
        if node.end is not None:
            sql.append("p.published_us < ?")
            params.append(epoch_us(node.end))
        # No bound at all (`published:<=9999-12-31`: up to the end of the calendar) is every post.
        return "(" + (" AND ".join(sql) or "1") + ")", params
    if isinstance(node, Not):
        sql, params = condition(node.child)
        return f"NOT ({sql})", params
    if isinstance(node, (And, Or)):
        joiner = " AND " if isinstance(node, And) else " OR "
        sqls, params = [], []
        for child in node.children:
            s, p = condition(child)
            sqls.append(s)
            params.extend(p)
        return "(" + joiner.join(sqls) + ")", params
    raise TypeError(f"unknown node: {node!r}")
