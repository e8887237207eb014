"""The query AST as a tantivy query, for search/tantivy_index.py.

The same translation as search/elastic_query.py, so the two engines that rank by a per-field BM25
agree: one token is a `best_fields`-style disjunction-max over the word and sub-word part fields,
several tokens a phrase over the word fields only (parts are not consecutive text; see
search/tokens.py). Boosts are Elasticsearch's: title ×3, parts ×0.5, the normalised text ×0.8.
Filters and dates score 0 (`const_score_query(…, 0)`), so only words rank, as in the other indexes.

A two-word phrase is one term of the word-pair fields (layout 2, `PAIR_FIELDS`): each text's
adjacent words are also indexed joined by PAIR_JOIN, so `今天 天气` is the term `今天|天气`. A phrase
query checks positions in every post holding both words (two common words: hundreds of thousands
of posts at a million, 250 ms), a term is a posting list ranked with block-max pruning. The pairs
are the word stream's adjacent tokens, so the term matches exactly where the phrase does (no
verification step is needed); it ranks by the pair's own BM25 in the same field, boosts unchanged.
Longer phrases stay phrase queries.

Every query is built from segmenter tokens and filter values handed to tantivy's term, phrase and
range constructors: no user text reaches tantivy's query parser.
"""
from __future__ import annotations

from datetime import datetime

import tantivy

from search.elastic_query import NORMALISED_BOOST, PART_BOOST, TITLE_BOOST
from search.query import And, DateRange, Field, Node, Not, Or, Text, is_text_only
from search.times import epoch_us

Q = tantivy.Query
_MUST, _SHOULD, _NOT = tantivy.Occur.Must, tantivy.Occur.Should, tantivy.Occur.MustNot

# field -> boost: the word fields (phrases match here) and the part fields (single words also)
WORD_FIELDS = {"title": TITLE_BOOST, "body": 1.0, "norm": NORMALISED_BOOST}
PART_FIELDS = {"title_parts": TITLE_BOOST * PART_BOOST, "body_parts": PART_BOOST,
               "norm_parts": NORMALISED_BOOST * PART_BOOST}
# query field name -> the raw (untokenised) tantivy field it filters on
FILTER_FIELDS = {"category": "categories", "source": "source", "author": "author", "status": "status",
                 "primary": "primary"}
# word field -> its pair field
PAIR_FIELDS = {"title": "title_pairs", "body": "body_pairs", "norm": "norm_pairs"}
# Tokens hold only letters, digits and So symbols (search/tokens.py folds everything else to a
# space), so "|" never occurs inside one and a pair term cannot collide with a word.
PAIR_JOIN = "|"
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


def word_pairs(words: str) -> str:
    """The pair-field text of a words-stream text: each two adjacent tokens joined by PAIR_JOIN."""
    tokens = words.split()
    return " ".join(map(PAIR_JOIN.join, zip(tokens, tokens[1:])))  # map/zip/join: C speed, ~3x a comprehension


class Translator:
    def __init__(self, schema: tantivy.Schema, pairs: bool = False):
        """`pairs`: the index has the pair fields (layout 2), so two-word phrases use them."""
        self.schema = schema
        self.pairs = pairs

    # ------------------------------------------------------------------ leaves

    def text(self, node: Text) -> tantivy.Query:
        if len(node.tokens) == 1:
            token = node.tokens[0]
            fields = {**WORD_FIELDS, **PART_FIELDS}
            return Q.disjunction_max_query([Q.boost_query(Q.term_query(self.schema, f, token), b)
                                            for f, b in fields.items()])
        if self.pairs and len(node.tokens) == 2:
            pair = PAIR_JOIN.join(node.tokens)
            return Q.disjunction_max_query([Q.boost_query(Q.term_query(self.schema, PAIR_FIELDS[f], pair), b)
                                            for f, b in WORD_FIELDS.items()])
        return Q.disjunction_max_query([Q.boost_query(Q.phrase_query(self.schema, f, list(node.tokens)), b)
                                        for f, b in WORD_FIELDS.items()])

    def field(self, name: str, value: str) -> tantivy.Query:
        return Q.const_score_query(Q.term_query(self.schema, FILTER_FIELDS[name], value), 0.0)

    def dates(self, start: datetime | None, end: datetime | None) -> tantivy.Query:
        lower = epoch_us(start) if start is not None else _I64_MIN
        upper = epoch_us(end) if end is not None else _I64_MAX
        return Q.const_score_query(Q.range_query(self.schema, "published_us", tantivy.FieldType.Integer, lower, upper,
                                                 include_lower=True, include_upper=end is None), 0.0)

    def since(self, us: int) -> tantivy.Query:
        return Q.const_score_query(Q.range_query(self.schema, "published_us", tantivy.FieldType.Integer, us, _I64_MAX), 0.0)

    def at_most(self, name: str, value: int) -> tantivy.Query:
        return Q.const_score_query(Q.range_query(self.schema, name, tantivy.FieldType.Integer, _I64_MIN, value), 0.0)

    # ------------------------------------------------------------------ trees

    def node(self, node: Node) -> tantivy.Query:
        if isinstance(node, Text):
            return self.text(node)
        if isinstance(node, Field):
            return self.field(node.name, node.value)
        if isinstance(node, DateRange):
            return self.dates(node.start, node.end)
        if isinstance(node, Not):
            return self.all_of([], [self.node(node.child)])
        if isinstance(node, Or):
            return Q.boolean_query([(_SHOULD, self.node(c)) for c in node.children])
        if isinstance(node, And):
            must = [self.node(c) for c in node.children if not isinstance(c, Not)]
            must_not = [self.node(c.child) for c in node.children if isinstance(c, Not)]
            return self.all_of(must, must_not)
        raise TypeError(f"unknown node: {node!r}")

    @staticmethod
    def all_of(must: list[tantivy.Query], must_not: list[tantivy.Query] = ()) -> tantivy.Query:
        if not must_not and len(must) == 1:
            return must[0]
        if not must:  # a boolean query of exclusions alone matches nothing in tantivy
            must = [Q.const_score_query(Q.all_query(), 0.0)]
        return Q.boolean_query([(_MUST, q) for q in must] + [(_NOT, q) for q in must_not])

    def search(self, root: Node | None, *, category: str | None = None, source: str | None = None,
               published_from: datetime | None = None, published_to: datetime | None = None,
               extra: list[tantivy.Query] = ()) -> tantivy.Query:
        """The whole query of a request: the parsed `q`, the request's own filters, `extra` ones."""
        must = list(extra)
        if category is not None:
            must.append(self.field("category", category))
        if source is not None:
            must.append(self.field("source", source))
        if published_from is not None or published_to is not None:
            must.append(self.dates(published_from, published_to))
        if root is not None:
            if isinstance(root, And):  # flatten, so exclusions sit beside the request's filters
                children = root.children
            else:
                children = (root,)
            must.extend(self.node(c) for c in children if not isinstance(c, Not))
            must_not = [self.node(c.child) for c in children if isinstance(c, Not)]
            return self.all_of(must, must_not)
        return self.all_of(must) if must else Q.all_query()


def is_ranked(root: Node | None) -> bool:
    """Ranked by words when some word or phrase is ANDed at the top of the query (the rule of the
    SQLite planner, search/sqlite_query.py `plan`); otherwise newest first."""
    if root is None:
        return False
    parts = root.children if isinstance(root, And) else (root,)
    return any(is_text_only(n) and not isinstance(n, Not) for n in parts)
