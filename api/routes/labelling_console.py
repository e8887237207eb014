"""The console's labelling pages (issue 15): /console/labelling (the recall sample's queue and
posts found by search, labelled with one key per category, with the miss-rate and precision
figures) and /console/models (the registry of model versions and their cards).

Route modules never import each other, so the few console helpers this needs (the session check,
rendering, the flash cookie) are called through api.deps and FlashSigner as api/routes/console.py
does; the pages extend the same base.html.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api import console_labels
from api.auth import REVIEWERS, FlashSigner
from api.console_text import visible
from api.deps import services, session_caller
from api.errors import DOMAIN_ERRORS
from api.schemas_labels import LabelIn
from api.services import labelling
from api.services.search import MAX_QUERY_LENGTH, run_search
from patrol.labels import LABEL_CATEGORIES, LabelError
from search.index import IndexUnavailable, InvalidSearch, QuerySyntaxError

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "console" / "templates")
templates.env.globals.update(console_labels.template_globals(), visible=visible)

# One key per category, in the taxonomy's order (most severe first): 1…9 and 0 for the harm
# categories, n for none (不违规), the commonest answer in a recall sample.
_HARM = [c for c in LABEL_CATEGORIES if c != "none"]
KEYS = dict(zip(_HARM, "1234567890qwertyuiop")) | {"none": "n"}


def _page(request: Request, name: str, caller, **context) -> Response:
    flash = FlashSigner(request.app.state.secret_key).loads(request.cookies.get(FlashSigner.COOKIE))
    ctx = {"caller": caller, "csrf_token": request.app.state.signer.csrf_for(caller.nonce),
           "flash": flash[0] if flash else context.pop("flash", None),
           "flash_kind": flash[1] if flash else context.pop("flash_kind", None), **context}
    response = templates.TemplateResponse(request, name, ctx, status_code=context.get("status_code", 200))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    if flash:
        response.delete_cookie(FlashSigner.COOKIE, path="/console")
    return response


def _login(request: Request) -> Response:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/login?{urlencode({'next': path})}", status_code=303)


def _back(request: Request, url: str, message: str, kind: str = "info") -> Response:
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(FlashSigner.COOKIE, FlashSigner(request.app.state.secret_key).dumps(message, kind),
                        path="/console", httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


def _figure_rows(figures) -> list[dict]:
    rows = []
    for c in LABEL_CATEGORIES:
        if c == "none":
            continue
        rows.append({"category": c, "miss": figures.miss_rate.get(c), "precision": figures.precision.get(c)})
    return rows


@router.get("/labelling", response_class=HTMLResponse)
def labelling_page(request: Request, q: str = Query("", max_length=MAX_QUERY_LENGTH), svc=Depends(services)):
    caller = session_caller(request)
    if caller is None:
        return _login(request)
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
    return _page(request, "labelling.html", caller, nav="labelling", queue=queue, hits=hits, q=q,
                 search_error=error, keys=KEYS, categories=LABEL_CATEGORIES, figures=figures,
                 figure_rows=_figure_rows(figures), can_review=caller.role in REVIEWERS,
                 status_code=400 if error and not error.startswith("检索服务") else 200)


@router.post("/labelling/label")
def label_form(request: Request, csrf_token: str = Form("", max_length=200), post_id: str = Form("", max_length=64),
               category: str = Form("", max_length=40), origin: str = Form("search", max_length=20),
               back: str = Form("/console/labelling", max_length=2000), svc=Depends(services)):
    caller = session_caller(request)
    if caller is None:
        return _login(request)
    target = back if urlsplit(back).path == "/console/labelling" and not urlsplit(back).netloc else "/console/labelling"
    if not request.app.state.signer.csrf_matches(caller.nonce, csrf_token):
        return _back(request, target, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。", "error")
    if caller.role not in REVIEWERS:
        return _back(request, target, "当前角色无权标注帖子（需要民警或主管）。", "error")
    if category not in LABEL_CATEGORIES:
        return _back(request, target, f"未知类别 {category!r}，标注未保存。", "error")
    if origin not in ("recall_sample", "search"):
        return _back(request, target, f"未知标注来源 {origin!r}，标注未保存。", "error")
    try:
        labelling.label(svc, caller.username, LabelIn(post_id=post_id or "-", category=category, origin=origin))
    except tuple(DOMAIN_ERRORS) as exc:
        return _back(request, target, f"标注未保存：{exc}", "error")
    except LabelError as exc:
        return _back(request, target, f"标注未保存：{exc}", "error")
    return _back(request, target, f"已标注为「{console_labels.CATEGORY.get(category, category)}」。")


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, svc=Depends(services)):
    caller = session_caller(request)
    if caller is None:
        return _login(request)
    figures = labelling.figures(svc, None)
    return _page(request, "models.html", caller, nav="models", models=labelling.models(svc),
                 figures=figures, figure_rows=_figure_rows(figures))
