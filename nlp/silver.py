"""Silver training data: short posts the project composes from its own seed lists and templates.

No human-labelled rows exist for gambling, porn_sexual, illicit_ads, drugs, weapons,
violence_terror and pii_leak, and the public fraud rows are long scripts. Real harmful posts are
short, obfuscated and carry contact hand-offs, so this module composes exactly that from the seed
files in `nlp/data/silver/` and then applies the evasion transforms evaders use, so the model
learns features that survive the normaliser. Hard negatives (campaigns against a harm, crackdown
news, real shops and employers, hyperbole, medical questions) are made just as short, so that
neither "short" nor "has a contact" can stand in for "harmful".

Everything is deterministic for a given seed. Templates are split into a training part and a
held-out part (a stable hash of the template text), so a silver test set can be made from
templates the model never saw. A model scored on silver data only re-measures these rules.
"""
from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from nlp.categories import NONE, most_severe
from nlp.evasions import silver_split_forms, split_guard_allows

SEED_DIR = Path(__file__).parent / "data" / "silver"
COMMON_FILE = "common.txt"
_SLOT = re.compile(r"\{([a-z_0-9]+(?::[a-z_]+)?)\}")
_MAX_DEPTH = 6
# One template in five is kept out of training so the silver test set is not pure memorisation.
HELDOUT_MODULUS = 5


class SeedFileError(ValueError):
    """A seed file that cannot be read; the message names the file, the line and the reason."""


@dataclass
class SeedFile:
    name: str
    labels: tuple[str, ...]
    templates: list[str] = field(default_factory=list)
    slots: dict[str, list[str]] = field(default_factory=dict)
    # the file's posts as a share of the usual count (`@share 0.3`): several smaller files of
    # hard negatives, each about one harm, add variety without outweighing the rest
    share: float = 1.0


@dataclass(frozen=True)
class SilverPost:
    text: str
    labels: tuple[str, ...]
    source: str  # seed file stem, e.g. "gambling" or "none"
    template: str
    evasions: tuple[str, ...] = ()

    @property
    def category(self) -> str:
        return most_severe(self.labels)

    def to_row(self, split: str, index: int) -> dict:
        return {
            "id": f"silver:{self.source}:{split}:{index}",
            "text": self.text,
            "category": self.category,
            "labels": list(self.labels),
            "dataset": "silver",
            "split": split,
            "source_label": f"template={self.source}",
            "scope_note": "silver: composed from project templates; measures the rules, not the world",
        }


def parse_seed_file(path: Path) -> SeedFile:
    labels: tuple[str, ...] | None = None
    seed = SeedFile(name=path.stem, labels=())
    section: list[str] | None = None
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if raw == " " and section is not None:
            # A slot value that is exactly one space is meaningful: a separator.
            section.append(" ")
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("@labels"):
            labels = tuple(line.split()[1:])
            continue
        if line.startswith("@share"):
            try:
                seed.share = float(line.split()[1])
            except (IndexError, ValueError):
                seed.share = -1.0
            if not 0.0 < seed.share <= 1.0:
                raise SeedFileError(f"{path}:{lineno}: '@share' needs a number in (0, 1], got {line!r}")
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            if not re.fullmatch(r"[a-z_0-9]+", name):
                raise SeedFileError(f"{path}:{lineno}: bad section name {name!r}")
            section = seed.templates if name == "templates" else seed.slots.setdefault(name, [])
            continue
        if section is None:
            raise SeedFileError(f"{path}:{lineno}: value {line!r} before any [section]")
        section.append(line)
    if path.name != COMMON_FILE:
        if labels is None:
            raise SeedFileError(f"{path}: missing '@labels' line")
        if not seed.templates:
            raise SeedFileError(f"{path}: no [templates] section")
    seed.labels = labels or ()
    return seed


def load_seeds(seed_dir: Path = SEED_DIR) -> tuple[SeedFile, list[SeedFile]]:
    """(common slots, category files sorted by name)."""
    common = parse_seed_file(seed_dir / COMMON_FILE)
    files = [parse_seed_file(p) for p in sorted(seed_dir.glob("*.txt")) if p.name != COMMON_FILE]
    return common, files


def is_heldout(source: str, template: str) -> bool:
    return zlib.crc32(f"{source}\x00{template}".encode()) % HELDOUT_MODULUS == 0


# --- generated slots: numbers and identifiers with the right shape and check digits -------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_AREAS = ("110101", "310104", "330106", "440305", "510107", "420111", "320106", "610113")


def cn_id_number(rng: random.Random) -> str:
    body = (
        rng.choice(_AREAS)
        + f"{rng.randint(1960, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        + f"{rng.randint(0, 999):03d}"
    )
    total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS))
    return body + _ID_CHECK[total % 11]


def luhn_card(rng: random.Random) -> str:
    digits = [6, 2] + [rng.randint(0, 9) for _ in range(rng.choice((13, 14, 16)))]  # 16, 17 or 19 digits with the check digit
    total = 0
    for i, d in enumerate(reversed(digits)):
        # The check digit will sit at the end, so the doubling starts on the current last digit.
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}"


def _money(rng: random.Random) -> str:
    n = rng.choice((50, 88, 100, 198, 200, 300, 500, 800, 1000, 1500, 2000, 3000, 5000, 8000, 10000, 20000))
    return rng.choice((f"{n}", f"{n}元", f"{n}块", f"{n // 1000}k" if n >= 1000 else f"{n}米", f"{n // 10000}万" if n >= 10000 else f"{n}元"))


def _handle(rng: random.Random) -> str:
    letters = "".join(rng.choice("abcdefghjkmnpqrstwxyz") for _ in range(rng.randint(2, 6)))
    return letters + str(rng.randint(0, 99999))


_TLDS = ("top", "vip", "xyz", "cc", "club", "icu", "me", "fun")

GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "num": lambda r: str(r.choice((2, 3, 5, 8, 10, 18, 20, 28, 30, 50, 66, 88, 99, 100, 168, 365))),
    "money": _money,
    "phone": _mobile,
    "qq": lambda r: str(r.randint(10000, 3999999999)),
    "handle": _handle,
    "link": lambda r: rng_link(r),
    "id_number": cn_id_number,
    "card": luhn_card,
    "plate": lambda r: f"{r.choice('京沪浙粤川苏鄂')}{r.choice('ABCDE')}·{r.randint(10000, 99999)}",
    "date": lambda r: f"{r.randint(1, 12)}月{r.randint(1, 28)}日",
    "hour": lambda r: f"{r.randint(0, 23)}点",
}


def rng_link(rng: random.Random) -> str:
    host = "".join(rng.choice("abcdefghkmnpqrstuvwxyz0123456789") for _ in range(rng.randint(3, 8)))
    scheme = rng.choice(("", "", "http://", "https://", "www."))
    return f"{scheme}{host}.{rng.choice(_TLDS)}"


# --- evasion transforms: how evaders write (TAXONOMY "How evaders write") ------------------------

_HOMOPHONES: dict[str, tuple[str, ...]] = {
    "微信": ("薇信", "威信", "V信", "vx", "微❤", "卫星", "威❤"),
    "博彩": ("菠菜", "波菜", "博cai"),
    "QQ": ("扣扣", "🐧", "企鹅", "抠抠"),
    "加": ("➕", "+", "家", "伽"),
    "有": ("🈶", "又"),
    "群": ("⭕", "裙", "峮"),
    "约炮": ("yp", "约P", "月炮"),
    "兼职": ("jz", "兼只", "监职"),
    "赌博": ("du博", "堵博"),
    "色情": ("se情", "涩情"),
    "叶子": ("葉子", "页子"),
    "小红书": ("🍠",),
    "钱": ("💰", "米"),
    "私聊": ("私撩", "s聊"),
    "上门": ("上扪",),
    "刷单": ("刷dan", "唰单"),
    "返利": ("反利", "fan利"),
    "彩金": ("采金",),
    "资源": ("资圆", "zy"),
    "贷款": ("代款", "dai款"),
}
# the split characters the normaliser undoes (nlp/evasions.py), so silver writes no other
_SPLIT_FORMS = silver_split_forms()
_SEPARATORS = ("*", "_", " ", "·", "/", "-", "\u200b", ".", "|", "～")
_NUMERALS = {"0": "零〇洞", "1": "一幺壹①", "2": "二两贰②", "3": "三叁③", "4": "四肆④",
             "5": "五伍⑤", "6": "六陆⑥", "7": "七柒拐⑦", "8": "八捌⑧", "9": "九玖勾⑨"}
_EMOJI_NOISE = ("🔥", "✨", "💰", "👉", "❤️", "🌹", "💯", "🎉", "😊", "👍")
_CJK = re.compile(r"[\u4e00-\u9fff]{2,4}")


def _homophone(text: str, rng: random.Random) -> str:
    present = [w for w in _HOMOPHONES if w in text]
    if not present:
        return text
    w = rng.choice(present)
    return text.replace(w, rng.choice(_HOMOPHONES[w]), 1)


def _pinyin(text: str, rng: random.Random) -> str:
    spans = list(_CJK.finditer(text))
    if not spans:
        return text
    from pypinyin import lazy_pinyin

    m = rng.choice(spans)
    start = rng.randrange(m.start(), m.end() - 1)
    word = text[start:start + 2]
    syllables = lazy_pinyin(word)
    repl = "".join(s[0] for s in syllables) if rng.random() < 0.4 else "".join(syllables)
    return text[:start] + repl + text[start + 2:]


def _separators(text: str, rng: random.Random) -> str:
    spans = list(_CJK.finditer(text))
    if not spans:
        return text
    m = rng.choice(spans)
    sep = rng.choice(_SEPARATORS)
    return text[:m.start()] + sep.join(m.group()) + text[m.end():]


def _fullwidth(text: str, rng: random.Random) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and rng.random() < 0.8 else c for c in text)


def _traditional(text: str, rng: random.Random) -> str:
    return _s2t(text)


def _split_chars(text: str, rng: random.Random) -> str:
    present = [c for c in _SPLIT_FORMS if c in text]
    if not present:
        return text
    c = rng.choice(present)
    at = text.index(c)
    form = _SPLIT_FORMS[c]
    # only where the normaliser reads the form as `c` (女票 stands for 嫖 only before 娼/客/资/妓)
    if not split_guard_allows(form, text, at + 1):
        return text
    return text[:at] + form + text[at + 1:]


def _numerals(text: str, rng: random.Random) -> str:
    runs = list(re.finditer(r"[0-9]{5,}", text))
    if not runs:
        return text
    m = rng.choice(runs)
    spelled = "".join(rng.choice(_NUMERALS[d]) if rng.random() < 0.7 else d for d in m.group())
    return text[:m.start()] + spelled + text[m.end():]


def _emoji_noise(text: str, rng: random.Random) -> str:
    pos = rng.randrange(len(text) + 1)
    return text[:pos] + rng.choice(_EMOJI_NOISE) + text[pos:]


EVASIONS: dict[str, Callable[[str, random.Random], str]] = {
    "homophone": _homophone,
    "pinyin": _pinyin,
    "separator": _separators,
    "fullwidth": _fullwidth,
    "traditional": _traditional,
    "split_char": _split_chars,
    "numeral": _numerals,
    "emoji": _emoji_noise,
}

_converter = None


def _s2t(text: str) -> str:
    global _converter
    if _converter is None:
        import opencc

        _converter = opencc.OpenCC("s2t")
    return _converter.convert(text)


def apply_evasions(text: str, rng: random.Random, max_steps: int = 3) -> tuple[str, tuple[str, ...]]:
    names = rng.sample(sorted(EVASIONS), k=rng.randint(1, max_steps))
    for name in names:
        text = EVASIONS[name](text, rng)
    return text, tuple(names)


# --- composition ---------------------------------------------------------------------------------


LEXICON_DIR = Path(__file__).parent / "data" / "lexicons"
LEXICON_MIN_WEIGHT = 0.6


def lexicon_terms(category: str, lexicon_dir: Path = LEXICON_DIR) -> list[str]:
    """The strong terms of the project's lexicon for `category` (format of nlp/lexicon.py:
    term<TAB>weight<TAB>tags). Only terms that count on their own (weight >= 0.6, not `weak`)
    are used, so a silver post never rests on a word that is harmless alone."""
    path = lexicon_dir / f"{category}.txt"
    if not path.is_file():
        return []
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        try:
            weight = float(parts[1]) if len(parts) > 1 and parts[1].strip() else 0.6
        except ValueError:
            continue  # the lexicon loader reports broken lines; silver just skips them
        if weight >= LEXICON_MIN_WEIGHT and "weak" not in (parts[2] if len(parts) > 2 else ""):
            terms.append(parts[0].strip())
    return terms


def realise(term: str, rng: random.Random) -> str:
    """A lexicon term as a post would write it: a co-occurrence `A…B` becomes one word of A
    followed by one of B (`高价收|回收…银行卡` -> "回收银行卡"), never the pattern itself."""
    if "…" not in term:
        return term
    left, right = term.split("…", 1)
    return rng.choice(left.split("|")) + rng.choice(right.split("|"))


class Composer:
    """Fills templates from one seed file, falling back to the common slots and the generators.

    `{lex}` draws a strong term from the project's lexicon of the file's category, so the silver
    posts cover every term the lexicon knows, not only the ones in the seed lists."""

    def __init__(self, seed: SeedFile, common: SeedFile, lexicon_dir: Path = LEXICON_DIR):
        self.seed = seed
        self.common = common
        self.lex = lexicon_terms(seed.labels[0], lexicon_dir) if seed.labels else []
        self._lexicon_dir = lexicon_dir
        self._by_category: dict[str, list[str]] = {}

    def _other_lex(self, category: str) -> list[str]:
        if category not in self._by_category:
            self._by_category[category] = lexicon_terms(category, self._lexicon_dir)
        return self._by_category[category]

    def fill(self, template: str, rng: random.Random, depth: int = 0) -> str:
        if depth > _MAX_DEPTH:
            raise SeedFileError(f"{self.seed.name}: slots nest deeper than {_MAX_DEPTH} in {template!r}")

        def one(m: re.Match) -> str:
            name = m.group(1)
            values = self.seed.slots.get(name) or self.common.slots.get(name)
            if values:
                return self.fill(rng.choice(values), rng, depth + 1)
            if name == "lex" and self.lex:
                return realise(rng.choice(self.lex), rng)
            if name.startswith("lex:"):
                # another category's strong terms: hard negatives that warn about, report or
                # ask about a harm name the harm's own words ("评论区全是{lex:illicit_ads}广告")
                terms = self._other_lex(name[4:])
                if terms:
                    return realise(rng.choice(terms), rng)
            if name in GENERATORS:
                return GENERATORS[name](rng)
            raise SeedFileError(f"{self.seed.name}: unknown slot {{{name}}} in {template!r}")

        return _SLOT.sub(one, template)


def generate(
    n_per_file: int,
    seed: int,
    heldout: bool = False,
    seed_dir: Path = SEED_DIR,
    evasion_rate_harm: float = 0.6,
    evasion_rate_clean: float = 0.25,
    negatives_factor: float = 2.0,
) -> list[SilverPost]:
    """Posts from every seed file: `n_per_file` per harm file, `negatives_factor` times that of
    hard negatives. `heldout=True` draws only from the held-out templates (the silver test set)."""
    rng = random.Random(seed)
    common, files = load_seeds(seed_dir)
    posts: list[SilverPost] = []
    for sf in files:
        templates = [t for t in sf.templates if is_heldout(sf.name, t) == heldout]
        if not templates:
            continue
        composer = Composer(sf, common)
        is_clean = not sf.labels
        count = int((n_per_file * negatives_factor if is_clean else n_per_file) * sf.share)
        rate = evasion_rate_clean if is_clean else evasion_rate_harm
        seen: set[str] = set()
        attempts = 0
        while len(seen) < count and attempts < count * 4:
            attempts += 1
            template = rng.choice(templates)
            text = composer.fill(template, rng).strip()
            evasions: tuple[str, ...] = ()
            if rng.random() < rate:
                text, evasions = apply_evasions(text, rng)
            if not text or text in seen:
                continue
            seen.add(text)
            posts.append(SilverPost(text, tuple(sf.labels), sf.name, template, evasions))
    return posts


def silver_rows(n_per_file: int, seed: int, heldout: bool = False, **kw) -> list[dict]:
    split = "silver_test" if heldout else "train"
    return [p.to_row(split, i) for i, p in enumerate(generate(n_per_file, seed, heldout=heldout, **kw))]


def describe(posts: Iterable[SilverPost]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in posts:
        key = p.category if p.labels else NONE
        counts[key] = counts.get(key, 0) + 1
    return counts
