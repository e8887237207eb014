"""The lexicon files: their format, and reading a directory of them into entries and rules.

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

from nlp.categories import HARM_CATEGORIES

log = logging.getLogger(__name__)

DEFAULT_DIR = Path(__file__).parent / "data" / "lexicons"
SIGNALS = ("contact", "trade")
BENIGN = "benign"
DEFAULT_WEIGHT = 0.6
KNOWN_TAGS = frozenset({"weak", "minor"})
EXCEPTION_GAP = 20

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_VERSION_RE = re.compile(r"^#\s*version\s*:\s*(\S+)\s*$", re.IGNORECASE)


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
class LexiconFiles:
    """What one directory of lexicon files holds, with every broken line reported."""

    entries: dict[str, list[_Entry]]
    pairs: list[_PairRule]
    rules: list[_ExceptionRule]
    benign: frozenset[str]
    problems: list[LexiconProblem]
    version: str  # a hash of every file's name and bytes


def read_directory(directory: Path) -> LexiconFiles:
    """Parse every lexicon file of `directory`; broken lines are reported and skipped."""
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
    return LexiconFiles(entries, pairs, rules, frozenset(benign), problems, digest.hexdigest()[:12])


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
    first_line: dict[tuple[str, str], int] = {}
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
        if (cat, pattern) in first_line:
            # two factors for one rule: which one holds would depend on line order
            problems.append(LexiconProblem(name, no, f"duplicate exception {cat}\t{pattern} "
                                           f"(first at line {first_line[(cat, pattern)]})"))
            continue
        first_line[(cat, pattern)] = no
        regex = None
        if len(parts) > 1:
            regex = re.compile(f".{{0,{EXCEPTION_GAP}}}?".join(re.escape(p) for p in parts), re.DOTALL)
        yield _ExceptionRule(cat, pattern, factor, regex)
