"""The console's labelling pages (issue 15): /console/labelling (the recall sample's queue and
posts found by search, labelled with one key per category, with the miss-rate and precision
figures) and /console/models (the registry of model versions and their cards).

The page helpers (the session check and login redirect, rendering with the console's headers,
the flash cookie) are the console's own, from api/console_web.py; the pages extend base.html.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse

from api import console_labels
from api.auth import REVIEWERS
from api.console_web import console_caller, redirect_with, render
from api.deps import Caller, services
from api.errors import DOMAIN_ERRORS
from api.schemas_labels import LabelIn
from api.services import labelling
from api.services.search import MAX_QUERY_LENGTH, run_search
from patrol.labels import LABEL_CATEGORIES, LabelError
from search.index import IndexUnavailable, InvalidSearch, QuerySyntaxError

router = APIRouter(prefix="/console", include_in_schema=False)

# One key per category, in the taxonomy's order (most severe first): 1…9 and 0 for the harm
# categories, n for none (不违规), the commonest answer in a recall sample.
_HARM = [c for c in LABEL_CATEGORIES if c != "none"]
KEYS = dict(zip(_HARM, "1234567890qwertyuiop")) | {"none": "n"}


def _figure_rows(figures) -> list[dict]:
    rows = []
    for c in LABEL_CATEGORIES:
        if c == "none":
            continue
        rows.append({"category": c, "miss": figures.miss_rate.get(c), "precision": figures.precision.get(c)})
    return rows


@router.get("/labelling", response_class=HTMLResponse)
def labelling_page(request: Request, q: str = Query("", max_length=MAX_QUERY_LENGTH),
                   caller: Caller = Depends(console_caller), svc=Depends(services)):
    queue = labelling.queue(svc, None, 50)
    hits, error = None, None
    if q:
        try:
            hits = run_search(svc, caller.username, q=q, category=None, source=None, published_from=None,
                              published_to=None, limit=20, cursor=None).hits
        except QuerySyntaxError as exc:
            error = f"检索语法错误（第 {exc.position + 1} 个字符）：{exc.message}"
        except InvalidSearch as exc:
            error = f"检索条件无效：{exc}"
        except IndexUnavailable:
            error = "检索服务暂不可用，请稍后再试。"
    figures = labelling.figures(svc, None)
    return render(request, "labelling.html", caller, status_code=400 if error and not error.startswith("检索服务") else 200,
                  nav="labelling", queue=queue, hits=hits, q=q,
                  search_error=error, keys=KEYS, categories=LABEL_CATEGORIES, figures=figures,
                  figure_rows=_figure_rows(figures), can_review=caller.role in REVIEWERS)


@router.post("/labelling/label")
def label_form(request: Request, csrf_token: str = Form("", max_length=200), post_id: str = Form("", max_length=64),
               category: str = Form("", max_length=40), origin: str = Form("search", max_length=20),
               back: str = Form("/console/labelling", max_length=2000),
               caller: Caller = Depends(console_caller), svc=Depends(services)):
    target = back if urlsplit(back).path == "/console/labelling" and not urlsplit(back).netloc else "/console/labelling"
    if not request.app.state.signer.csrf_matches(caller.nonce, csrf_token):
        return redirect_with(request, target, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。", "error")
    if caller.role not in REVIEWERS:
        return redirect_with(request, target, "当前角色无权标注帖子（需要民警或主管）。", "error")
    if category not in LABEL_CATEGORIES:
        return redirect_with(request, target, f"未知类别 {category!r}，标注未保存。", "error")
    if origin not in ("recall_sample", "search"):
        return redirect_with(request, target, f"未知标注来源 {origin!r}，标注未保存。", "error")
    try:
        labelling.label(svc, caller.username, LabelIn(post_id=post_id or "-", category=category, origin=origin))
    except tuple(DOMAIN_ERRORS) as exc:
        return redirect_with(request, target, f"标注未保存：{exc}", "error")
    except LabelError as exc:
        return redirect_with(request, target, f"标注未保存：{exc}", "error")
    return redirect_with(request, target, f"已标注为「{console_labels.CATEGORY.get(category, category)}」。")


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, caller: Caller = Depends(console_caller), svc=Depends(services)):
    figures = labelling.figures(svc, None)
    return render(request, "models.html", caller, nav="models", models=labelling.models(svc),
                  figures=figures, figure_rows=_figure_rows(figures))
