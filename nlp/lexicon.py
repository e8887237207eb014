"""Category lexicons, contact and trade signals and counter-speech exceptions, matched in one pass.

Files live in one directory (default `nlp/data/lexicons/`):

- `<category>.txt` for each harm category code, `contact.txt` (hand-off signals such as 加我, 私聊),
  `trade.txt` (selling words such as 出货, 面交). Format:

      # version: 2026.05.1          <- required header line
      上门服务<TAB>0.8                 <- term, optional weight in (0, 1] (default 0.6)
      叶子<TAB>0.5<TAB>weak            <- optional comma-separated tags
      # a comment

  Tags: `weak` — the term counts only with a trade/contact signal or a stronger hit of the
  same category (叶子 is also a leaf); `minor` — the term says a minor is involved (萝莉,
  初中生): the Analyzer flags it as minor evidence when its category is labelled.

  A term may be a co-occurrence `A…B`: one of the `|`-separated words of A, then one of B
  within 12 characters in the same sentence (`高价收|回收|收购…银行卡|电话卡|营业执照`). It
  generalises a phrase to its variants ("高价收 一类银行卡", "回收闲置电话卡") without listing
  each; a text hits one rule at most once, reported as the concrete pair ("高价收…银行卡").

- `benign.txt`: everyday words that contain a term (冰箱 holds 冰, 蛋白粉 holds 白粉, 路口交叉
  holds 口交). One word a line; where one is found, the terms inside it are not hits. Cheaper
  and surer than an exception, because it removes exactly that reading and nothing else.

- `exceptions.txt`: counter-speech that suppresses a category. One rule a line:
  `<category or *><TAB><pattern><TAB><factor>`; the pattern is a plain term, or `A…B` for
  "A, then B within 20 characters" (警惕…诈骗). The factor multiplies the category score
  (0 vetoes it).

A broken line is reported (file:line and why) in `Lexicon.problems` and skipped; the rest loads.
Terms are matched on the normalised text with ASCII lowercased, so write them in lower case.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import ahocorasick_rs

from nlp.categories import HARM_CATEGORIES

log = logging.getLogger(__name__)

DEFAULT_DIR = Path(__file__).parent / "data" / "lexicons"
SIGNALS = ("contact", "trade")
BENIGN = "benign"
DEFAULT_WEIGHT = 0.6
KNOWN_TAGS = frozenset({"weak", "minor"})
EXCEPTION_GAP = 20
PAIR_GAP = 12
# a co-occurrence belongs to one sentence: "收了快递。银行卡丢了" is two things
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
# separators the normaliser may fold when a term spans them: only strong, multi-character
# CJK terms, so that "酒店 不错" never becomes a word
FOLD_MIN_WEIGHT = 0.5
_CJK_TERM_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,8}")

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_VERSION_RE = re.compile(r"^#\s*version\s*:\s*(\S+)\s*$", re.IGNORECASE)


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
class LexiconProblem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class LexiconError(ValueError):
    """Lexicon files that cannot replace the ones in use; `problems` says where and why."""

    def __init__(self, directory: Path | None, problems: tuple[LexiconProblem, ...]):
        self.directory = directory
        self.problems = problems
        listed = "; ".join(str(p) for p in problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        super().__init__(f"lexicons in {directory} have {len(problems)} problem(s), the lexicons in use were kept: {listed}")


@dataclass(frozen=True)
class _Entry:
    category: str
    weight: float
    weak: bool
    minor: bool = False


@dataclass(frozen=True)
class _PairRule:
    """A co-occurrence term `A…B`: any word of `lefts`, then any of `rights` close behind."""

    category: str
    pattern: str
    lefts: tuple[str, ...]
    rights: tuple[str, ...]
    entry: _Entry


@dataclass(frozen=True)
class _ExceptionRule:
    category: str
    pattern: str
    factor: float
    regex: re.Pattern | None  # for A…B rules; plain terms go through the automaton


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
        if not directory.is_dir():
            raise FileNotFoundError(f"lexicon directory not found: {directory}")
        entries: dict[str, list[_Entry]] = {}
        pairs: list[_PairRule] = []
        rules: list[_ExceptionRule] = []
        benign: set[str] = set()
        problems: list[LexiconProblem] = []
        digest = hashlib.sha256()
        for path in sorted(directory.glob("*.txt")):
            raw = path.read_bytes()
            digest.update(path.name.encode() + b"\0" + raw + b"\0")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(LexiconProblem(path.name, 0, f"not UTF-8 ({exc.reason} at byte {exc.start}); file skipped"))
                continue
            stem = path.stem
            if stem == "exceptions":
                rules.extend(_parse_exceptions(path.name, text, problems))
            elif stem == BENIGN:
                benign.update(_parse_benign(path.name, text, problems))
            elif stem in HARM_CATEGORIES or stem in SIGNALS:
                for term, entry in _parse_terms(path.name, stem, text, problems):
                    if isinstance(entry, _PairRule):
                        pairs.append(entry)
                    else:
                        entries.setdefault(term, []).append(entry)
            else:
                problems.append(LexiconProblem(path.name, 0, f"unknown lexicon {stem!r}: not a category code, "
                                               f"{', '.join(SIGNALS)}, {BENIGN} or exceptions; file skipped"))
        for p in problems:
            log.warning("lexicon: %s", p)
        return cls(entries, rules, digest.hexdigest()[:12], problems, directory, pairs, frozenset(benign))

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


def _content_lines(name: str, text: str, problems: list[LexiconProblem]):
    """Yield (line number, fields) for every non-comment line; check the version header."""
    has_version = False
    for no, line in enumerate(text.splitlines(), start=1):
        if _VERSION_RE.match(line):
            has_version = True
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        # an inline comment after the fields: "term<TAB>0.5  # why"
        if "\t#" in line or "  #" in line:
            line = re.split(r"\s+#", line, maxsplit=1)[0]
        yield no, [f.strip() for f in line.rstrip("\r\n").split("\t")]
    if not has_version:
        problems.append(LexiconProblem(name, 1, "missing '# version: ...' header line"))


def _parse_weight(raw: str) -> float | None:
    try:
        w = float(raw)
    except ValueError:
        return None
    return w if 0.0 < w <= 1.0 else None


def _parse_terms(name: str, category: str, text: str, problems: list[LexiconProblem]):
    seen: set[str] = set()
    for no, fields in _content_lines(name, text, problems):
        term = fields[0].translate(_ASCII_LOWER)
        if not term:
            problems.append(LexiconProblem(name, no, "empty term"))
            continue
        if len(fields) > 3:
            problems.append(LexiconProblem(name, no, f"expected term[<TAB>weight[<TAB>tags]], got {len(fields)} fields"))
            continue
        if any(ch.isspace() for ch in term):
            problems.append(LexiconProblem(name, no, f"term {term!r} contains whitespace (fields are TAB-separated)"))
            continue
        if "|" in term and "…" not in term:
            # read literally it would never match: '|' only separates words inside an A…B rule
            problems.append(LexiconProblem(name, no, f"term {term!r} has '|' but no '…': alternatives work only "
                                           f"in a co-occurrence A…B"))
            continue
        weight = DEFAULT_WEIGHT
        if len(fields) >= 2 and fields[1]:
            weight = _parse_weight(fields[1])
            if weight is None:
                problems.append(LexiconProblem(name, no, f"weight {fields[1]!r} is not a number in (0, 1]"))
                continue
        tags = {t.strip() for t in fields[2].split(",") if t.strip()} if len(fields) == 3 else set()
        unknown = tags - KNOWN_TAGS
        if unknown:
            problems.append(LexiconProblem(name, no, f"unknown tag(s) {sorted(unknown)}; known: {sorted(KNOWN_TAGS)}"))
            continue
        if term in seen:
            problems.append(LexiconProblem(name, no, f"duplicate term {term!r}"))
            continue
        entry = _Entry(category, weight, "weak" in tags, "minor" in tags)
        if "…" in term:
            sides = term.split("…")
            words = [tuple(w for w in side.split("|")) for side in sides]
            if len(sides) != 2 or not all(w for side in words for w in side):
                problems.append(LexiconProblem(name, no, f"co-occurrence {term!r} must be A…B with non-empty "
                                               f"'|'-separated words on both sides"))
                continue
            seen.add(term)
            yield term, _PairRule(category, term, words[0], words[1], entry)
            continue
        seen.add(term)
        yield term, entry


def _parse_benign(name: str, text: str, problems: list[LexiconProblem]):
    for no, fields in _content_lines(name, text, problems):
        word = fields[0].translate(_ASCII_LOWER)
        if len(fields) != 1 or not word or any(ch.isspace() for ch in word):
            problems.append(LexiconProblem(name, no, "expected one word a line"))
            continue
        yield word


def _parse_exceptions(name: str, text: str, problems: list[LexiconProblem]):
    valid = set(HARM_CATEGORIES) | {"*"}
    for no, fields in _content_lines(name, text, problems):
        if len(fields) != 3:
            problems.append(LexiconProblem(name, no, f"expected category<TAB>pattern<TAB>factor, got {len(fields)} fields"))
            continue
        cat, pattern, raw_factor = fields
        if cat not in valid:
            problems.append(LexiconProblem(name, no, f"unknown category {cat!r}"))
            continue
        try:
            factor = float(raw_factor)
        except ValueError:
            factor = -1.0
        if not 0.0 <= factor < 1.0:
            problems.append(LexiconProblem(name, no, f"factor {raw_factor!r} is not a number in [0, 1)"))
            continue
        pattern = pattern.translate(_ASCII_LOWER)
        parts = [p for p in pattern.split("…")]
        if not all(parts):
            problems.append(LexiconProblem(name, no, f"pattern {pattern!r} has an empty part around '…'"))
            continue
        regex = None
        if len(parts) > 1:
            regex = re.compile(f".{{0,{EXCEPTION_GAP}}}?".join(re.escape(p) for p in parts), re.DOTALL)
        yield _ExceptionRule(cat, pattern, factor, regex)


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
