"""GET /api/posts/{id}: a post as the store keeps it, with its versions."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import Caller, READERS_DEP, services
from api.schemas import PostOut
from api.services import audit
from api.services.posts import load_post

router = APIRouter(prefix="/api/posts", tags=["posts"])


@router.get("/{post_id}", response_model=PostOut, summary="A post, its analysis and its versions")
def get_post(post_id: str, caller: Caller = READERS_DEP, svc=Depends(services)) -> PostOut:
    post = load_post(svc, post_id)
    audit.viewed(svc, caller.username, "post", post_id, via="api")
    return post
