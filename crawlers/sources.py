"""The sources file (`sources.yaml`): which sites to crawl, how, and how often.

A broken file is refused as a whole: a half-loaded source list would silently stop watching the
sources that failed to load, which is worse for a duty officer than no crawl at all.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

KINDS = ("rss", "wordpress", "discourse", "mastodon", "discuz", "html", "sitemap")
SourceKind = Literal["rss", "wordpress", "discourse", "mastodon", "discuz", "html", "sitemap"]

_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SELECTOR_KEYS = ("item", "link", "next", "title", "body", "author", "published")


def parse_interval(text: str) -> timedelta:
    """'30s', '15m', '2h', '1d' -> timedelta."""
    match = _INTERVAL.match(str(text))
    if not match:
        raise ValueError(f"interval {text!r} is not a number followed by s, m, h or d (e.g. '15m')")
    amount, unit = int(match.group(1)), match.group(2)
    if amount <= 0:
        raise ValueError(f"interval {text!r} must be longer than zero")
    return timedelta(seconds=amount * _UNIT_SECONDS[unit])


class CrawlOverrides(BaseModel):
    """Per-source exceptions to the global CrawlSettings, for sites that need gentler treatment."""

    model_config = ConfigDict(extra="forbid")

    user_agent: str | None = None
    obey_robots: bool | None = None
    concurrent_per_domain: int | None = Field(default=None, ge=1, le=64)
    download_delay: float | None = Field(default=None, ge=0)
    download_timeout: float | None = Field(default=None, gt=0)
    # An explicit charset for sites whose pages declare the wrong one.
    encoding: str | None = None


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: SourceKind
    url: str
    interval: str = "15m"
    max_pages: int = Field(default=20, ge=1, le=10_000)
    selectors: dict[str, str] | None = None
    tag: str | None = None
    # Where the source is (吉林省白山市): places an event when its posts name no place (patrol/events).
    place: str | None = None
    overrides: CrawlOverrides = Field(default_factory=CrawlOverrides)

    @field_validator("name")
    @classmethod
    def _name_is_an_identifier(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                "must be 1-64 characters of letters, digits, '-', '_' or '.', starting with a letter or digit"
            )
        return value

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("interval")
    @classmethod
    def _interval_parses(cls, value: Any) -> str:
        parse_interval(str(value))
        return str(value).strip()

    @model_validator(mode="after")
    def _kind_specific_keys(self) -> "Source":
        if self.kind == "html":
            if not self.selectors:
                raise ValueError("selectors: kind html needs selectors (at least item, link and body)")
            unknown = sorted(set(self.selectors) - set(SELECTOR_KEYS))
            if unknown:
                raise ValueError(f"selectors: unknown key(s) {unknown}; allowed: {list(SELECTOR_KEYS)}")
            missing = [k for k in ("item", "link", "body") if not self.selectors.get(k)]
            if missing:
                raise ValueError(f"selectors: kind html needs {missing}")
        elif self.selectors:
            raise ValueError(f"selectors: only kind html takes selectors, not {self.kind}")
        if self.tag is not None and self.kind != "mastodon":
            raise ValueError(f"tag: only kind mastodon takes a tag, not {self.kind}")
        return self

    @property
    def interval_delta(self) -> timedelta:
        return parse_interval(self.interval)


class SourcesFileError(ValueError):
    """The sources file cannot be used; the message names the file, the source and the key."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{self.path}: refused, nothing was loaded:\n{lines}")


def _describe(index: int, raw: Any, error: ValidationError) -> list[str]:
    label = f"source #{index + 1}"
    if isinstance(raw, dict) and isinstance(raw.get("name"), str):
        label += f" ({raw['name']!r})"
    problems = []
    for err in error.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(whole entry)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "literal_error" and key == "kind":
            message = f"must be one of {', '.join(KINDS)} (got {err.get('input')!r})"
        problems.append(f"{label}: key '{key}': {message}")
    return problems


def parse_sources(data: Any, path: Path | str = "<sources>") -> list[Source]:
    """Validate an already-parsed sources document ({'sources': [...]})."""
    if not isinstance(data, dict) or "sources" not in data:
        raise SourcesFileError(path, ["top level: expected a mapping with a 'sources:' list"])
    entries = data["sources"]
    if not isinstance(entries, list):
        raise SourcesFileError(path, ["key 'sources': expected a list of sources"])
    unknown_top = sorted(set(data) - {"sources"})
    problems: list[str] = [f"top level: unknown key '{k}'" for k in unknown_top]
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(entries):
        if not isinstance(raw, dict):
            problems.append(f"source #{index + 1}: expected a mapping of keys, got {type(raw).__name__}")
            continue
        try:
            source = Source.model_validate(raw)
        except ValidationError as error:
            problems.extend(_describe(index, raw, error))
            continue
        if source.name in seen:
            problems.append(
                f"source #{index + 1} ({source.name!r}): key 'name': duplicate of source #{seen[source.name] + 1}"
            )
            continue
        seen[source.name] = index
        sources.append(source)
    if problems:
        raise SourcesFileError(path, problems)
    return sources


def load_sources(path: Path | str) -> list[Source]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourcesFileError(path, ["file not found"]) from None
    except UnicodeDecodeError as error:
        raise SourcesFileError(path, [f"not UTF-8 text ({error.reason} at byte {error.start})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SourcesFileError(path, [f"YAML syntax error at {where}{problem}"]) from None
    return parse_sources(data, path)


def select_sources(sources: list[Source], names: list[str] | None) -> list[Source]:
    """The named subset, in file order; an unknown name is an error, not an empty crawl."""
    if not names:
        return list(sources)
    known = {s.name for s in sources}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"no source named {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}")
    wanted = set(names)
    return [s for s in sources if s.name in wanted]
