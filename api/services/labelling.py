"""Officers' labels, the recall sample, the figures and the model registry, for the API and the
console (issue 15). The work is the store's (patrol/store/labels.py) and the registry's."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timezone

from api.deps import now
from api.errors import ApiError
from api.schemas_labels import ClassifyOut, FiguresOut, LabelIn, LabelOut, ModelsOut, ModelVersionOut, SampledPostOut
from patrol.labels import LabelError
from patrol.model_registry import BUNDLED, ModelRegistry, RegistryError


def label(svc, actor: str, body: LabelIn) -> LabelOut:
    try:
        got = svc.store.label_post(body.post_id, body.category, actor, now(), origin=body.origin)
    except LabelError as exc:
        raise ApiError(422, str(exc)) from exc
    return LabelOut(**asdict(got))


def post_labels(svc, post_id: str) -> list[LabelOut]:
    return [LabelOut(**asdict(x)) for x in svc.store.post_labels(post_id)]


def queue(svc, day: date | None, limit: int) -> list[SampledPostOut]:
    return [SampledPostOut(**asdict(p)) for p in svc.store.recall_queue(day, limit)]


def draw(svc, day: date | None, size: int, seed: int | None) -> list[SampledPostOut]:
    which = day or datetime.now(timezone.utc).date()
    return [SampledPostOut(**asdict(p)) for p in svc.store.draw_recall_sample(which, size, now(), seed)]


def figures(svc, since: datetime | None) -> FiguresOut:
    return FiguresOut(**svc.store.label_figures(since))


def registry(svc) -> ModelRegistry:
    return ModelRegistry(svc.settings.home)


def models(svc) -> ModelsOut:
    reg = registry(svc)
    try:
        versions, current = reg.list(), reg.current()
    except RegistryError as exc:
        raise ApiError(500, str(exc)) from exc
    return ModelsOut(current=current or BUNDLED, in_use=svc.analyzer.model_version,
                     versions=[ModelVersionOut(version=v.version, current=v.current, card=v.card)
                               for v in reversed(versions)])


def classify(svc, text: str) -> ClassifyOut:
    """The text through the analyzer this server uses now (a promoted model is picked up first)."""
    a = svc.analyzer.analyse(text)
    return ClassifyOut(primary=a.primary, labels=list(a.labels), scores=dict(a.scores), model_version=a.model_version)
