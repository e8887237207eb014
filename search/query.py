"""The query language (search/README.md "Query language"), parsed once into a small AST that each index compiles.

    博彩 网站                  both words (implicit AND)
    "博彩 网站"  “博彩网站”     a phrase: the words next to each other, in order
    博彩 OR 赌博 网站          OR binds tighter than the implicit AND: (博彩 OR 赌博) AND 网站
    -代理  -"…"  -(a OR b)     exclude a word, a phrase or a group
    ( … )                      grouping
    category:fraud  source:city-forum  author:someone  status:open  primary:gambling
    published:>=2026-11-01  published:<2026-11-05T08:00+08:00  published:2026-11-01..2026-11-05
    published:2026-11-01       that whole day

OR binding tighter follows web search engines: people write `赌博 OR 博彩 网站` meaning either word
plus 网站. Dates without an offset are UTC; a date-only bound covers the whole day, so
`published:<=2026-11-05` includes all of 5 November and `a..b` includes all of day b.

Every word is cut by the same segmenter as the indexed text; a word that cuts into several tokens
becomes a phrase of them. Punctuation-only words (`*`, `^`, `;`) have no tokens and are ignored.
Nothing of the query string reaches a backend as syntax: the indexes build their own queries from
the tokens here, which contain only letters and digits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Union

from search.index import QuerySyntaxError
from search.tokens import DEFAULT_SEGMENTER, Segmenter

MAX_QUERY_LENGTH = 1000
MAX_TERMS = 64
MAX_DEPTH = 32

# query field -> the IndexedPost attribute it filters on
FIELDS = {
    "category": "categories",
    "source": "source",
    "author": "author",
    "status": "status",
    "primary": "primary",
}
_LOWERCASED_FIELDS = {"category", "status", "primary"}
DATE_FIELDS = {"published"}

_QUOTES = {'"': '"', "“": "”"}
_FIELD_WORD = re.compile(r"([A-Za-z_]+):(.*)", re.S)
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\S+")
_SURROGATE = re.compile("[\ud800-\udfff]")


# ----------------------------------------------------------------------------- the AST


@dataclass(frozen=True)
class Text:
    """A word or a quoted phrase. One token matches the word; several must appear in order."""

    text: str
    tokens: tuple[str, ...]
    position: int
    quoted: bool = False


@dataclass(frozen=True)
class Field:
    """`name:value`: an exact match on a stored field (`category` matches any of the labels)."""

    name: str
    value: str
    position: int

    @property
    def attribute(self) -> str:
        return FIELDS[self.name]


@dataclass(frozen=True)
class DateRange:
    """published_at in [start, end); either bound may be open. Bounds are aware, in UTC."""

    start: datetime | None
    end: datetime | None
    position: int


@dataclass(frozen=True)
class And:
    children: tuple["Node", ...]
    position: int


@dataclass(frozen=True)
class Or:
    children: tuple["Node", ...]
    position: int


@dataclass(frozen=True)
class Not:
    child: "Node"
    position: int


Node = Union[Text, Field, DateRange, And, Or, Not]


@dataclass(frozen=True)
class ParsedQuery:
    """`root` is None for an empty query: everything matches (newest first)."""

    text: str
    root: Node | None

    def positive_phrases(self) -> list[tuple[str, ...]]:
        """Token sequences the hits were asked to contain (not those excluded): what to highlight."""
        out: list[tuple[str, ...]] = []
        _collect_positive(self.root, out)
        return out


def _collect_positive(node: Node | None, out: list[tuple[str, ...]]) -> None:
    if isinstance(node, Text):
        out.append(node.tokens)
    elif isinstance(node, (And, Or)):
        for child in node.children:
            _collect_positive(child, out)


def is_text_only(node: Node) -> bool:
    """True when the subtree is words, phrases and their boolean combinations: a full-text match."""
    if isinstance(node, Text):
        return True
    if isinstance(node, Not):
        return is_text_only(node.child)
    if isinstance(node, (And, Or)):
        return all(is_text_only(c) for c in node.children)
    return False


# ----------------------------------------------------------------------------- lexing


@dataclass(frozen=True)
class _Lexeme:
    kind: str  # "(" ")" "OR" "-" "phrase" "word" "field"
    position: int
    text: str = ""
    name: str = ""  # for fields
    value_position: int = 0
    quoted: bool = False


def _lex(q: str) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    i, n = 0, len(q)
    while i < n:
        ch = q[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(_Lexeme(ch, i))
            i += 1
        elif ch in _QUOTES:
            text, i_next = _read_quoted(q, i)
            out.append(_Lexeme("phrase", i, text, quoted=True))
            i = i_next
        elif ch == "-" and i + 1 < n and not q[i + 1].isspace() and q[i + 1] not in "-)":
            out.append(_Lexeme("-", i))
            i += 1
        else:
            start = i
            while i < n and not q[i].isspace() and q[i] not in "()" and q[i] not in _QUOTES:
                i += 1
            word = q[start:i]
            if word == "OR":
                out.append(_Lexeme("OR", start))
                continue
            m = _FIELD_WORD.fullmatch(word)
            if not m:
                out.append(_Lexeme("word", start, word))
                continue
            name, value = m.group(1).lower(), m.group(2)
            if name not in FIELDS and name not in DATE_FIELDS:
                known = ", ".join(sorted([*FIELDS, *DATE_FIELDS]))
                raise QuerySyntaxError(
                    f"unknown field '{m.group(1)}' (known: {known}); put the text in quotes to search for it",
                    q, start)
            value_pos = start + len(m.group(1)) + 1
            quoted = False
            if not value and i < n and q[i] in _QUOTES:
                value, i = _read_quoted(q, i)
                quoted = True
            if not value:
                raise QuerySyntaxError(f"'{m.group(1)}:' needs a value", q, value_pos)
            out.append(_Lexeme("field", start, value, name=name, value_position=value_pos, quoted=quoted))
    return out


def _read_quoted(q: str, start: int) -> tuple[str, int]:
    close = _QUOTES[q[start]]
    end = q.find(close, start + 1)
    if end < 0:
        raise QuerySyntaxError("unclosed quote", q, start)
    return q[start + 1:end], end + 1


# ----------------------------------------------------------------------------- parsing


class _Parser:
    def __init__(self, q: str, lexemes: list[_Lexeme], segmenter: Segmenter):
        self.q = q
        self.lex = lexemes
        self.i = 0
        self.segmenter = segmenter
        self.terms = 0
        self.depth = 0

    def error(self, message: str, position: int) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.q, position)

    def peek(self) -> _Lexeme | None:
        return self.lex[self.i] if self.i < len(self.lex) else None

    def take(self) -> _Lexeme:
        lexeme = self.lex[self.i]
        self.i += 1
        return lexeme

    def parse(self) -> Node | None:
        node = self.conjunction()
        extra = self.peek()
        if extra is not None:  # only a stray ")" stops a top-level conjunction
            raise self.error("unmatched ')'", extra.position)
        return node

    def conjunction(self) -> Node | None:
        items: list[Node] = []
        start = self.peek().position if self.peek() else len(self.q)
        while (lexeme := self.peek()) is not None and lexeme.kind != ")":
            items.append(self.disjunction())
        return _make(And, items, start)

    def disjunction(self) -> Node:
        first = self.unary()
        alternatives = [first]
        while (lexeme := self.peek()) is not None and lexeme.kind == "OR":
            self.take()
            following = self.peek()
            if following is None or following.kind in (")", "OR"):
                raise self.error("OR needs a word, phrase or group after it", lexeme.position)
            alternatives.append(self.unary())
        return _make(Or, alternatives, _position(first)) if len(alternatives) > 1 else first

    def unary(self) -> Node:
        lexeme = self.peek()
        if lexeme.kind == "-":
            self.take()
            following = self.peek()
            if following is None or following.kind in (")", "OR"):
                raise self.error("'-' must be followed by a word, phrase, filter or group", lexeme.position)
            return Not(self.primary(), lexeme.position)
        return self.primary()

    def primary(self) -> Node:
        lexeme = self.take()
        if lexeme.kind == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error(f"parentheses nested deeper than {MAX_DEPTH}", lexeme.position)
            first_inside = self.i
            inner = self.conjunction()
            if self.peek() is None:
                raise self.error("unclosed '('", lexeme.position)
            if self.i == first_inside:
                raise self.error("empty parentheses", lexeme.position)
            self.take()
            self.depth -= 1
            return inner if inner is not None else Text("", (), lexeme.position)
        if lexeme.kind == ")":
            raise self.error("unmatched ')'", lexeme.position)
        if lexeme.kind == "OR":
            raise self.error("OR needs a word, phrase or group before it", lexeme.position)
        self.count_term(lexeme.position)
        if lexeme.kind in ("word", "phrase"):
            return Text(lexeme.text, tuple(self.segmenter.tokens(lexeme.text)), lexeme.position,
                        quoted=lexeme.kind == "phrase")
        if lexeme.name in DATE_FIELDS:
            return _date_range(self.q, lexeme)
        value = lexeme.text.lower() if lexeme.name in _LOWERCASED_FIELDS else lexeme.text
        return Field(lexeme.name, value, lexeme.position)

    def count_term(self, position: int) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.error(f"too many terms (at most {MAX_TERMS})", position)


def _position(node: Node) -> int:
    return node.position


def _make(kind, items: list[Node], position: int) -> Node | None:
    """Drops words with no tokens (punctuation only) and collapses one-child groups."""
    kept = [n for n in (_simplify(i) for i in items) if n is not None]
    if not kept:
        return None
    if len(kept) == 1:
        return kept[0]
    return kind(tuple(kept), position)


def _simplify(node: Node) -> Node | None:
    if isinstance(node, Text):
        return node if node.tokens else None
    if isinstance(node, Not):
        child = _simplify(node.child)
        return Not(child, node.position) if child is not None else None
    return node  # And/Or were simplified when made


# ----------------------------------------------------------------------------- dates


# Every query-language date goes through _date_range and _instant: the API, the console and
# `patrol search` all parse `q` here. Dates at the calendar's edge are valid: the span of
# 9999-12-31 runs past datetime.max, so "the end of that day" is "no upper bound" (_end_of), and
# "after the last instant" is a range nothing is in (NOTHING_AFTER).
_LAST_INSTANT = datetime.max.replace(tzinfo=timezone.utc)


def _end_of(start: datetime, span: timedelta) -> datetime | None:
    """start + span, or None (unbounded) when that is past the last representable instant."""
    try:
        return start + span
    except OverflowError:
        return None


def _date_range(q: str, lexeme: _Lexeme) -> DateRange:
    value, pos = lexeme.text, lexeme.value_position
    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            start, span = _instant(q, value[len(op):], pos + len(op))
            if op == ">=":
                return DateRange(start, None, lexeme.position)
            if op == ">":
                after = _end_of(start, span)
                if after is None:  # after the calendar's last instant: nothing
                    return DateRange(_LAST_INSTANT, _LAST_INSTANT, lexeme.position)
                return DateRange(after, None, lexeme.position)
            if op == "<":
                return DateRange(None, start, lexeme.position)
            return DateRange(None, _end_of(start, span), lexeme.position)
    if ".." in value:
        left, right = value.split("..", 1)
        lo = _instant(q, left, pos)[0] if left else None
        hi_start, hi_span = _instant(q, right, pos + len(left) + 2) if right else (None, None)
        hi = _end_of(hi_start, hi_span) if hi_start is not None else None
        if not left and not right:
            raise QuerySyntaxError("a date range needs at least one date", q, pos)
        if lo is not None and hi is not None and lo >= hi:
            raise QuerySyntaxError("the date range ends before it starts", q, pos)
        return DateRange(lo, hi, lexeme.position)
    start, span = _instant(q, value, pos)
    return DateRange(start, _end_of(start, span), lexeme.position)


def _instant(q: str, text: str, pos: int) -> tuple[datetime, timedelta]:
    """The instant a date or datetime names and the span it covers (a day, or one microsecond)."""
    try:
        if _DATE_ONLY.fullmatch(text):
            day = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
            return day, timedelta(days=1)
        if _DATETIME.fullmatch(text):
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return moment.astimezone(timezone.utc), timedelta(microseconds=1)
    except OverflowError:  # 0001-01-01T00:00+08:00 is before the first instant UTC can name
        raise QuerySyntaxError(f"date '{text}' is outside the years 1-9999 in UTC", q, pos) from None
    except ValueError:
        pass
    raise QuerySyntaxError(
        f"bad date '{text}': use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+08:00]", q, pos)


# ----------------------------------------------------------------------------- validation


def _validate(q: str, node: Node | None, allow_only_exclusions: bool) -> None:
    if isinstance(node, Not):
        if not allow_only_exclusions:
            raise QuerySyntaxError("a query of only exclusions matches everything else; add a word or filter",
                                   q, node.position)
        _validate(q, node.child, False)
    elif isinstance(node, And):
        if not allow_only_exclusions and all(isinstance(c, Not) for c in node.children):
            raise QuerySyntaxError("a query of only exclusions matches everything else; add a word or filter",
                                   q, node.children[0].position)
        for child in node.children:
            _validate(q, child.child if isinstance(child, Not) else child, False)
    elif isinstance(node, Or):
        for child in node.children:
            if isinstance(child, Not):
                raise QuerySyntaxError("an exclusion cannot be an OR alternative; put it outside the OR",
                                       q, child.position)
            _validate(q, child, False)


def parse(q: str, *, has_filters: bool = False, segmenter: Segmenter = DEFAULT_SEGMENTER) -> ParsedQuery:
    """Parse `q`. `has_filters`: the request carries filters outside `q`, so a `q` of only
    exclusions is meaningful (everything in those filters except …)."""
    if len(q) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"query longer than {MAX_QUERY_LENGTH} characters", q, MAX_QUERY_LENGTH)
    if bad := _SURROGATE.search(q):  # half of a UTF-16 pair: no text can contain it, no backend can take it
        raise QuerySyntaxError(f"character U+{ord(bad.group()):04X} is half of a broken character pair, not text",
                               q, bad.start())
    lexemes = _lex(q)
    root = _Parser(q, lexemes, segmenter).parse()
    if root is None and lexemes:
        raise QuerySyntaxError("nothing to search for: the query has no words, only punctuation",
                               q, lexemes[0].position)
    _validate(q, root, has_filters)
    return ParsedQuery(q, root)
