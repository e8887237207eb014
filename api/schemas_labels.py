"""The JSON shapes of officers' labels, the recall sample and the model registry (issue 15)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from patrol.labels import LABEL_CATEGORIES


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    post_id: str = Field(min_length=1, max_length=64)
    category: Literal[LABEL_CATEGORIES]  # type: ignore[valid-type]
    origin: Literal["recall_sample", "search"] = Field(
        "search", description="recall_sample: from the 抽检 queue; search: a post found by search (cold start)")


class LabelOut(BaseModel):
    id: int
    post_id: str
    post_version: int
    category: str
    origin: str
    alert_id: str | None
    decision: str | None
    outcome: str | None
    predicted: str | None
    labelled_by: str
    labelled_at: datetime


class SampledPostOut(BaseModel):
    day: str
    post_id: str
    source: str
    title: str
    text: str
    primary: str
    label: str | None


class SampleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date | None = Field(None, description="the UTC day whose posts are sampled; default today")
    size: int = Field(50, ge=1, le=1000)
    seed: int | None = None


class IntervalOut(BaseModel):
    k: int
    n: int
    rate: float | None
    low: float | None
    high: float | None


class FiguresOut(BaseModel):
    interval: str
    sampled_labelled: int = Field(description="labelled posts of the recall samples")
    decisions: int = Field(description="labels that came from decided alerts")
    miss_rate: dict[str, IntervalOut] = Field(description="share of no-alert posts that belong to the category")
    precision: dict[str, IntervalOut] = Field(description="share of decided alerts of the category the officer confirmed as it")


class ModelVersionOut(BaseModel):
    version: str
    current: bool
    card: dict


class ModelsOut(BaseModel):
    current: str = Field(description='the version in use; "bundled" for the model shipped in nlp/data/model/')
    in_use: str = Field(description="the model_version the analyzer of this server reports")
    versions: list[ModelVersionOut]


class ClassifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=20000)


class ClassifyOut(BaseModel):
    primary: str
    labels: list[str]
    scores: dict[str, float]
    model_version: str
