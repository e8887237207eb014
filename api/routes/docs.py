"""/docs (Swagger UI) and /redoc (ReDoc) from the vendored assets under /static/vendor/, so the
API's documentation works offline; FastAPI's own pages load them from a CDN."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html

router = APIRouter(include_in_schema=False)
VENDOR = "/static/vendor"


@router.get("/docs")
def swagger(request: Request):
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url, title=f"{request.app.title} · API",
        swagger_js_url=f"{VENDOR}/swagger-ui-dist/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui-dist/swagger-ui.css",
        swagger_favicon_url="data:,")


@router.get("/redoc")
def redoc(request: Request):
    return get_redoc_html(openapi_url=request.app.openapi_url, title=f"{request.app.title} · API",
                          redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js", redoc_favicon_url="data:,",
                          with_google_fonts=False)
