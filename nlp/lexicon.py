"""Category lexicons, contact and trade signals and counter-speech exceptions, matched in one pass.

Files live in one directory (default `nlp/data/lexicons/`):

- `<category>.txt` for each harm category code, `contact.txt` (hand-off signals such as 加我, 私聊),
  `trade.txt` (selling words such as 出货, 面交). Format:

      # version: 2026.05.1          <- required header line
      上门服务<TAB>0.8                 <- term, optional weight in (0, 1] (default 0.6)
      叶子<TAB>0.5<TAB>weak            <- optional comma-separated tags
      # a comment

  Tags: `weak` — the term counts only with a trade/contact signal or a stronger hit of the
  same category (叶子 is also a leaf).

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
DEFAULT_WEIGHT = 0.6
KNOWN_TAGS = frozenset({"weak"})
EXCEPTION_GAP = 20

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


@dataclass(frozen=True)
class _Entry:
    category: str
    weight: float
    weak: bool


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
    def __init__(self, entries: dict[str, list[_Entry]], rules: list[_ExceptionRule], version: str,
                 problems: list[LexiconProblem], directory: Path | None = None):
        self.directory = directory
        self.version = version
        self.problems = tuple(problems)
        self._entries = entries
        self._rules = rules
        self._plain_rules: dict[str, list[_ExceptionRule]] = {}
        for r in rules:
            if r.regex is None:
                self._plain_rules.setdefault(r.pattern, []).append(r)
        self._gap_rules = [r for r in rules if r.regex is not None]
        patterns = list(entries) + [p for p in self._plain_rules if p not in entries]
        self._patterns = patterns
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
        rules: list[_ExceptionRule] = []
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
            elif stem in HARM_CATEGORIES or stem in SIGNALS:
                for term, entry in _parse_terms(path.name, stem, text, problems):
                    entries.setdefault(term, []).append(entry)
            else:
                problems.append(LexiconProblem(path.name, 0, f"unknown lexicon {stem!r}: not a category code, "
                                               f"{' or '.join(SIGNALS)} or exceptions; file skipped"))
        for p in problems:
            log.warning("lexicon: %s", p)
        return cls(entries, rules, digest.hexdigest()[:12], problems, directory)

    def reload(self) -> "Lexicon":
        return Lexicon.load(self.directory)

    # ---------------------------------------------------------------- matching

    def categories(self) -> frozenset[str]:
        return frozenset(e.category for es in self._entries.values() for e in es)

    def match(self, text: str) -> list[LexiconHit]:
        """The category and signal hits in a normalised text (exceptions are in `scan`)."""
        return list(self.scan(text).hits)

    def scan(self, text: str) -> Match:
        if not text or self._ac is None:
            return Match((), ())
        low = text.translate(_ASCII_LOWER)
        hits: list[LexiconHit] = []
        exceptions: list[ExceptionHit] = []
        for idx, start, end in self._ac.find_matches_as_indexes(low):
            term = self._patterns[idx]
            if not _word_bounded(low, term, start, end):
                continue
            for e in self._entries.get(term, ()):
                hits.append(LexiconHit(e.category, term, start, end, e.weight, e.weak))
            for r in self._plain_rules.get(term, ()):
                exceptions.append(ExceptionHit(r.category, r.pattern, start, end, r.factor))
        if hits and self._gap_rules:
            # the A…B rules are regexes; only worth running when something harmful matched
            for r in self._gap_rules:
                m = r.regex.search(low)
                if m:
                    exceptions.append(ExceptionHit(r.category, r.pattern, m.start(), m.end(), r.factor))
        return Match(tuple(hits), tuple(exceptions))


def _word_bounded(text: str, term: str, start: int, end: int) -> bool:
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
        seen.add(term)
        yield term, _Entry(category, weight, "weak" in tags)


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
