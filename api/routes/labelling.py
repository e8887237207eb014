"""Officers' labels, the recall sample (抽检), the figures and the model registry over HTTP
(issue 15). The console pages that use them are in api/routes/labelling_console.py."""
from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query

from api.deps import Caller, READERS_DEP, REVIEWERS_DEP, SUPERVISORS_DEP, as_utc, services
from api.schemas_labels import ClassifyIn, ClassifyOut, FiguresOut, LabelIn, LabelOut, ModelsOut, SampledPostOut, SampleIn
from api.services import labelling

router = APIRouter(tags=["labels"])


@router.post("/api/labels", response_model=LabelOut, status_code=201,
             summary="Label a post from the recall sample or from search (a cold start)")
def label_post(body: LabelIn, caller: Caller = REVIEWERS_DEP, svc=Depends(services)) -> LabelOut:
    """Alerts are labelled by their decisions (POST /api/alerts/{id}/decision, with `category` to
    correct the alert's); this labels any other post. The latest label of a post is the one trained on."""
    return labelling.label(svc, caller.username, body)


@router.get("/api/labels/posts/{post_id}", response_model=list[LabelOut], summary="Every label a post was given")
def post_labels(post_id: str, caller: Caller = READERS_DEP, svc=Depends(services)) -> list[LabelOut]:
    return labelling.post_labels(svc, post_id)


@router.get("/api/labels/figures", response_model=FiguresOut,
            summary="Estimated miss rate and live precision per category, 95% Wilson intervals")
def figures(since: datetime | None = None, caller: Caller = READERS_DEP, svc=Depends(services)) -> FiguresOut:
    return labelling.figures(svc, as_utc(since))


@router.get("/api/recall-sample", response_model=list[SampledPostOut], summary="The recall sample's posts still to label")
def recall_queue(day: date | None = None, limit: int = Query(100, ge=1, le=1000),
                 caller: Caller = READERS_DEP, svc=Depends(services)) -> list[SampledPostOut]:
    return labelling.queue(svc, day, limit)


@router.post("/api/recall-sample", response_model=list[SampledPostOut],
             summary="Draw a day's recall sample (supervisors; a day is drawn once)")
def draw_sample(body: SampleIn, caller: Caller = SUPERVISORS_DEP, svc=Depends(services)) -> list[SampledPostOut]:
    return labelling.draw(svc, body.day, body.size, body.seed)


@router.get("/api/models", response_model=ModelsOut, summary="The registered model versions and their cards")
def models(caller: Caller = READERS_DEP, svc=Depends(services)) -> ModelsOut:
    return labelling.models(svc)


@router.post("/api/models/classify", response_model=ClassifyOut, summary="Classify a text with the model in use")
def classify(body: ClassifyIn, caller: Caller = READERS_DEP, svc=Depends(services)) -> ClassifyOut:
    return labelling.classify(svc, body.text)
