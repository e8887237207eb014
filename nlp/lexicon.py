"""Category lexicons, contact and trade signals and counter-speech exceptions, matched in one pass.

The files' format and their reading live in `nlp.lexicon_files` (its docstring describes every
file); this module builds the automata and matches. A broken line is reported (file:line and
why) in `Lexicon.problems` and skipped; the rest loads. Terms are matched on the normalised text
with ASCII lowercased, so write them in lower case.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import ahocorasick_rs

from nlp.lexicon_files import (BENIGN, DEFAULT_DIR, DEFAULT_WEIGHT, EXCEPTION_GAP, KNOWN_TAGS,  # noqa: F401
                               SIGNALS, LexiconError, LexiconProblem, _Entry, _ExceptionRule, _PairRule,
                               _parse_terms, read_directory)

PAIR_GAP = 12
# a co-occurrence belongs to one sentence: "收了快递。银行卡丢了" is two things
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
# separators the normaliser may fold when a term spans them: only strong, multi-character
# CJK terms, so that "酒店 不错" never becomes a word
FOLD_MIN_WEIGHT = 0.5
_CJK_TERM_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,8}")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class LexiconHit:
    """A term found in the normalised text. category is a harm code or a signal name."""

    category: str
    term: str
    start: int
    end: int
    weight: float
    weak: bool = False
    minor: bool = False  # the term says a minor is involved (tag `minor`)


@dataclass(frozen=True)
class ExceptionHit:
    """Counter-speech found in the text, and how much it scales `category` (`*` = every category)."""

    category: str
    pattern: str
    start: int
    end: int
    factor: float


@dataclass(frozen=True)
class Match:
    """Everything one pass over a text found."""

    hits: tuple[LexiconHit, ...]
    exceptions: tuple[ExceptionHit, ...]

    def signals(self, name: str) -> tuple[LexiconHit, ...]:
        return tuple(h for h in self.hits if h.category == name)


class Lexicon:
    """Immutable once built: reloading builds a new Lexicon, so a reader never sees half of one."""

    def __init__(self, entries: dict[str, list[_Entry]], rules: list[_ExceptionRule], version: str,
                 problems: list[LexiconProblem], directory: Path | None = None,
                 pairs: list[_PairRule] | None = None, benign: frozenset[str] = frozenset()):
        self.directory = directory
        self.version = version
        self.problems = tuple(problems)
        self._entries = entries
        self._pairs = list(pairs or ())
        self._benign = frozenset(benign)
        parts = sorted({w for r in self._pairs for w in r.lefts + r.rights} | (self._benign if self._pairs else set()))
        self._pair_parts = parts
        self._pair_ac = (
            ahocorasick_rs.AhoCorasick(parts, matchkind=ahocorasick_rs.MatchKind.Standard) if parts else None
        )
        # which co-occurrence rules a found left part can start: most texts find a few common
        # parts, and looking only at their rules spares a pass over every rule and word
        self._pairs_by_left: dict[str, list[int]] = {}
        for i, r in enumerate(self._pairs):
            for w in set(r.lefts):
                self._pairs_by_left.setdefault(w, []).append(i)
        self._pair_rights = [frozenset(r.rights) for r in self._pairs]
        # per automaton word: 1 = some rule's left word, 2 = some rule's right word
        lefts_all = {w for r in self._pairs for w in r.lefts}
        rights_all = {w for r in self._pairs for w in r.rights}
        self._pair_part_kind = [(1 if w in lefts_all else 0) | (2 if w in rights_all else 0) for w in parts]
        # benign words in the automaton only to shield: found, they are no part (a benign word
        # that a rule also lists stays that rule's part)
        self._shield_only = self._benign - lefts_all - rights_all
        self._pair_part_benign = [w in self._benign for w in parts]
        self._pair_needs_bound = [_needs_bound(w) for w in parts]
        # each word's first place in its rule: ties between matches are settled in list order
        self._pair_left_pos = [_first_positions(r.lefts) for r in self._pairs]
        self._pair_right_pos = [_first_positions(r.rights) for r in self._pairs]
        self.fold_terms = frozenset(
            t for t, es in entries.items()
            if _CJK_TERM_RE.fullmatch(t) and any(not e.weak and e.weight >= FOLD_MIN_WEIGHT for e in es)
        )
        self._rules = rules
        self._plain_rules: dict[str, list[_ExceptionRule]] = {}
        for r in rules:
            if r.regex is None:
                self._plain_rules.setdefault(r.pattern, []).append(r)
        self._gap_rules = [r for r in rules if r.regex is not None]
        # the words of an A…B rule must all be in the text before its regex can match; one
        # automaton finds which first words occur, so most rules are ruled out at once
        self._gap_parts = [tuple(r.pattern.split("…")) for r in self._gap_rules]
        firsts = sorted({parts[0] for parts in self._gap_parts})
        # plain exceptions also get an overlapping pass: in the leftmost-longest pass a longer
        # term that overlaps an exception ("求助热线" inside "诈骗求助热线") would hide it
        self._plain_rule_patterns = sorted(self._plain_rules)
        self._plain_rule_ac = (ahocorasick_rs.AhoCorasick(self._plain_rule_patterns,
                                                          matchkind=ahocorasick_rs.MatchKind.Standard)
                               if self._plain_rule_patterns else None)
        self._gap_first_ac = (ahocorasick_rs.AhoCorasick(firsts, matchkind=ahocorasick_rs.MatchKind.Standard)
                              if firsts else None)
        self._gap_rules_by_first = [[i for i, parts in enumerate(self._gap_parts) if parts[0] == f] for f in firsts]
        # benign words join the automaton so that leftmost-longest matching lets them swallow
        # the shorter terms inside them; a benign hit itself reports nothing
        patterns = list(entries) + [p for p in self._plain_rules if p not in entries]
        patterns += [b for b in sorted(self._benign) if b not in entries and b not in self._plain_rules]
        self._patterns = patterns
        # only a term with an ASCII letter at an edge can sit inside an English word
        self._pattern_needs_bound = [_needs_bound(t) for t in patterns]
        self._ac = (
            ahocorasick_rs.AhoCorasick(patterns, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
            if patterns else None
        )

    # ---------------------------------------------------------------- loading

    @classmethod
    def load(cls, directory: str | Path | None = None) -> "Lexicon":
        """Load every lexicon file of `directory`; broken lines are reported and skipped."""
        directory = Path(directory) if directory is not None else DEFAULT_DIR
        files = read_directory(directory)
        return cls(files.entries, files.rules, files.version, files.problems, directory, files.pairs, files.benign)

    def reload(self) -> "Lexicon":
        return Lexicon.load(self.directory)

    # ---------------------------------------------------------------- matching

    def categories(self) -> frozenset[str]:
        return frozenset(e.category for es in self._entries.values() for e in es) | frozenset(
            r.category for r in self._pairs)

    @property
    def benign(self) -> frozenset[str]:
        return self._benign

    @classmethod
    def from_terms(cls, terms: dict[str, str], benign: frozenset[str] = frozenset()) -> "Lexicon":
        """An in-memory lexicon of `terms` (term -> category name, any name), with `A…B`
        co-occurrences; used to try terms before they go into a file. A term that cannot be
        parsed raises ValueError naming it."""
        entries: dict[str, list[_Entry]] = {}
        pairs: list[_PairRule] = []
        for term, category in terms.items():
            problems: list[LexiconProblem] = []
            parsed = list(_parse_terms("<proposed>", category, f"# version: proposed\n{term}\n", problems))
            if problems:
                raise ValueError(f"term {term!r}: {problems[0].message}")
            for t, entry in parsed:
                if isinstance(entry, _PairRule):
                    pairs.append(entry)
                else:
                    entries.setdefault(t, []).append(entry)
        return cls(entries, [], "proposed", [], None, pairs, frozenset(benign))

    def terms(self, category: str) -> tuple[str, ...]:
        """The plain terms and co-occurrence patterns of one category (or signal), in no set order."""
        plain = tuple(t for t, es in self._entries.items() if any(e.category == category for e in es))
        return plain + tuple(r.pattern for r in self._pairs if r.category == category)

    def match(self, text: str) -> list[LexiconHit]:
        """The category and signal hits in a normalised text (exceptions are in `scan`)."""
        return list(self.scan(text).hits)

    def scan(self, text: str) -> Match:
        if not text or (self._ac is None and self._pair_ac is None):
            return Match((), ())
        low = lower_ascii(text)
        hits: list[LexiconHit] = []
        exceptions: list[ExceptionHit] = []
        bounded = self._pattern_needs_bound
        for idx, start, end in (self._ac.find_matches_as_indexes(low) if self._ac is not None else ()):
            term = self._patterns[idx]
            if bounded[idx] and not word_bounded(low, term, start, end):
                continue
            for e in self._entries.get(term, ()):
                hits.append(LexiconHit(e.category, term, start, end, e.weight, e.weak, e.minor))
            for r in self._plain_rules.get(term, ()):
                exceptions.append(ExceptionHit(r.category, r.pattern, start, end, r.factor))
        if self._pair_ac is not None:
            hits.extend(self._pair_hits(low))
        if hits and self._plain_rule_ac is not None:
            # exceptions only matter beside a hit, and a hidden one always sits beside the hit
            # that hid it, so this pass runs only when something matched
            seen = {(x.pattern, x.start) for x in exceptions}
            hidden = sorted((start, end, self._plain_rule_patterns[idx]) for idx, start, end
                            in self._plain_rule_ac.find_matches_as_indexes(low, overlapping=True))
            for start, end, pattern in hidden:
                if (pattern, start) in seen or not word_bounded(low, pattern, start, end):
                    continue
                for r in self._plain_rules[pattern]:
                    exceptions.append(ExceptionHit(r.category, r.pattern, start, end, r.factor))
        if hits and self._gap_rules:
            # the A…B rules are regexes; only worth running when something harmful matched
            present = {i for i, _s, _e in self._gap_first_ac.find_matches_as_indexes(low, overlapping=True)}
            for k in sorted(k for i in present for k in self._gap_rules_by_first[i]):
                r, parts = self._gap_rules[k], self._gap_parts[k]
                if not all(p in low for p in parts[1:]):
                    continue
                m = r.regex.search(low)
                if m:
                    exceptions.append(ExceptionHit(r.category, r.pattern, m.start(), m.end(), r.factor))
        return Match(tuple(hits), tuple(exceptions))


    def _pair_hits(self, low: str) -> list[LexiconHit]:
        """Co-occurrence hits: overlapping matching, because a part ("银行卡") often sits inside
        a plain term ("收银行卡") that the leftmost-longest pass reports instead."""
        # one walk over the matches; a text without both some rule's left word and some rule's
        # right word (kinds 1 | 2 = 3) can fire no rule and stops there
        kinds, parts, benign, bounded = self._pair_part_kind, self._pair_parts, self._pair_part_benign, self._pair_needs_bound
        seen_kinds = 0
        found: dict[str, list[tuple[int, int]]] = {}
        shields: list[tuple[int, int]] = []
        for idx, start, end in self._pair_ac.find_matches_as_indexes(low, overlapping=True):
            seen_kinds |= kinds[idx]
            part = parts[idx]
            if benign[idx]:
                shields.append((start, end))
            if not bounded[idx] or word_bounded(low, part, start, end):
                found.setdefault(part, []).append((start, end))
        if seen_kinds != 3:
            return []
        if shields:
            # "子女的都是" must not read as "女的都": a part strictly inside a benign word is no part
            found = {p: [(s, e) for s, e in spans
                         if not any(bs <= s and e <= be and be - bs > e - s for bs, be in shields)]
                     for p, spans in found.items() if p not in self._shield_only}
        if not found:
            return []
        out = []
        candidates = sorted({i for part in found for i in self._pairs_by_left.get(part, ())})
        for i in candidates:
            if self._pair_rights[i].isdisjoint(found):
                continue
            # walk the few words found, not the rule's long word lists; the earliest pair wins,
            # ties going to the word listed first (as a walk over the lists in order would)
            left_pos, right_pos = self._pair_left_pos[i], self._pair_right_pos[i]
            lefts = [(w, left_pos[w]) for w in found if w in left_pos]
            rights = [(w, right_pos[w]) for w in found if w in right_pos]
            best = None
            for a, ia in lefts:
                for a_start, a_end in found[a]:
                    for b, ib in rights:
                        for b_start, b_end in found[b]:
                            if a_end <= b_start <= a_end + PAIR_GAP and not _SENTENCE_END.search(low, a_end, b_start):
                                key = (a_start, b_end, ia, ib)
                                if best is None or key < best[0]:
                                    best = (key, a, b)
            if best is not None:
                r, e = self._pairs[i], self._pairs[i].entry
                (a_start, b_end, _, _), a, b = best
                out.append(LexiconHit(r.category, f"{a}…{b}", a_start, b_end, e.weight, e.weak, e.minor))
        return out


def _first_positions(words: tuple[str, ...]) -> dict[str, int]:
    pos: dict[str, int] = {}
    for i, w in enumerate(words):
        pos.setdefault(w, i)
    return pos


def _needs_bound(term: str) -> bool:
    """Whether `word_bounded` can ever be False for this term (an ASCII letter at either edge)."""
    return (term[0].isascii() and term[0].isalpha()) or (term[-1].isascii() and term[-1].isalpha())


def word_bounded(text: str, term: str, start: int, end: int) -> bool:
    """An ASCII term ("qq", "tg") must not sit inside a longer English word."""
    if term[0].isascii() and term[0].isalpha() and start > 0:
        c = text[start - 1]
        if c.isascii() and c.isalpha():
            return False
    if term[-1].isascii() and term[-1].isalpha() and end < len(text):
        c = text[end]
        if c.isascii() and c.isalpha():
            return False
    return True


_ASCII_UPPER_RE = re.compile("[A-Z]+")


def lower_ascii(text: str) -> str:
    """The case folding terms and texts get before matching (Chinese is left as it is).

    `text.translate(_ASCII_LOWER)` in effect, which looks every character up in a dict; most
    texts are pure ASCII (`str.lower` is the same there) or have no capital to fold at all."""
    if text.isascii():
        return text.lower()
    if not _ASCII_UPPER_RE.search(text):
        return text
    return _ASCII_UPPER_RE.sub(lambda m: m.group().lower(), text)
