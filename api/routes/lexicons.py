"""The lexicons in use, and putting edited lexicon files live without a restart.

An officer tries a term with `patrol lexicon backtest` first; a supervisor or admin then edits
the files and reloads here. A file with any broken line is refused as a whole and the lexicons in
use stay, so a typo can never silently drop a term. Every reload is in the audit trail.

This reloads the lexicons of the API's own process (and of `patrol demo`, which crawls in it).
A separate `patrol crawl --loop` process picks up edited files by itself before its next pass.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from api.deps import LEXICON_KEEPERS_DEP, READERS_DEP, Caller, services
from api.services import audit
from nlp.lexicon import LexiconError

router = APIRouter(prefix="/api/lexicons", tags=["lexicons"])


class LexiconsOut(BaseModel):
    version: str
    previous_version: str | None = None


@router.get("", response_model=LexiconsOut, summary="The version of the lexicons and model in use")
def current(caller: Caller = READERS_DEP, svc=Depends(services)) -> LexiconsOut:
    return LexiconsOut(version=svc.analyzer.model_version)


@router.post("/reload", response_model=LexiconsOut, summary="Re-read the lexicon files (supervisor, admin)")
def reload(caller: Caller = LEXICON_KEEPERS_DEP, svc=Depends(services)) -> LexiconsOut:
    before = svc.analyzer.model_version
    try:
        svc.analyzer.reload_lexicons()
    except LexiconError as exc:
        raise HTTPException(status_code=422, detail={
            "message": "the lexicon files have problems; the lexicons in use were kept",
            "problems": [str(p) for p in exc.problems],
        }) from None
    except FileNotFoundError as exc:
        raise HTTPException(status_code=422, detail=f"lexicon directory not found: {exc}") from None
    after = svc.analyzer.model_version
    audit.record(svc, "lexicon.reloaded", caller.username, subject="lexicons", data={"from": before, "to": after})
    return LexiconsOut(version=after, previous_version=before)
