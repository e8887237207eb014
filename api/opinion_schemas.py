"""The shapes of the public-opinion views: events, trends (series per key), watch-lists."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PlaceOut(BaseModel):
    status: str = Field(description="resolved | ambiguous | unknown")
    code: str = Field(description="GB/T 2260 division code: 2 (province), 4 (city) or 6 digits; '' when not resolved")
    province: str
    city: str
    district: str
    candidates: list[str]
    label: str


class EventOut(BaseModel):
    id: str
    title: str
    status: str
    merged_into: str | None
    first_seen: datetime
    last_seen: datetime
    size: int
    sources: dict[str, int]
    top_terms: list[str]
    categories: dict[str, int] = Field(description="harm categories among its posts, with post counts")
    place: PlaceOut
    sentiment: float = Field(description="mean post sentiment, -1 (negative) .. 1 (positive)")
    negative_posts: int
    posts_last_hour: int
    posts_last_day: int
    growth_hour: float = Field(description="(posts in the last hour + 1) / (posts in the hour before + 1)")
    growth_day: float
    negative_surge: float = Field(description="share of negative posts in the last hour above the day before")
    growth_score: float = Field(description="growth_hour lifted by the negative surge")
    trace: list[dict] = Field(default_factory=list, description=(
        "splits and merges it went through, oldest first: {at, by, action (split, split_from, auto_split, "
        "auto_split_from, merged_in, merged_into), other (the other event), posts, ...}; by 'system' = automatic"))


class EventPageOut(BaseModel):
    items: list[EventOut]
    total: int
    next_offset: int | None = Field(description="pass as offset for the next page; null at the end")


class TimelinePoint(BaseModel):
    hour: datetime
    count: int


class EventPostOut(BaseModel):
    post_id: str
    at: datetime
    source: str
    title: str
    text: str
    url: str
    sentiment: float
    categories: list[str]
    place_code: str


class EventDetailOut(BaseModel):
    event: EventOut
    timeline: list[TimelinePoint]
    representative_posts: list[EventPostOut]
    posts: list[EventPostOut]
    next_offset: int | None


class SeriesOut(BaseModel):
    kind: str
    key: str
    label: str
    total: int
    series: list[TimelinePoint]


class TrendsOut(BaseModel):
    kind: str = Field(description="term | category | place")
    hours: int
    items: list[SeriesOut]
    total: int
    next_offset: int | None


class BurstOut(BaseModel):
    kind: str
    key: str
    label: str
    window_start: datetime
    current: int
    expected: float
    alert_id: str


class RenameIn(BaseModel):
    title: str


class DismissIn(BaseModel):
    reason: str = ""


class MergeIn(BaseModel):
    into: str


class SplitIn(BaseModel):
    post_ids: list[str]


class WatchListIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    terms: list[str]
    description: str = ""
    active: bool = True
    min_count: int = Field(5, ge=2, le=10_000)


class WatchListOut(BaseModel):
    id: str
    name: str
    description: str
    terms: list[str]
    active: bool
    builtin: bool
    min_count: int
    updated_by: str
    updated_at: datetime | None
