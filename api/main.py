"""The FastAPI application: `create_app(services)` is the API's only entry point.

`services` is what app.bootstrap builds (settings, store, index, analyzer, ingestor); the app
never picks implementations itself.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.auth import TokenSigner, load_secret_key
from api.errors import install_error_handlers
from api.limits import BodyLimit
from api.metrics import ApiMetrics
from api import console_web, deadline_watch
from api.openapi import install_openapi
from api.routes import alerts, audit, auth, console, health, lexicons, posts, search, sources, trends
from api.routes import labelling, labelling_console
from api.routes import console_admin_rules, console_users, users
from api.routes import console_pages, docs
from api.routes import opinion_console, watchlists
from api.routes import console_alert, console_live, console_queue

CONSOLE_DIR = Path(__file__).parent / "console"


def create_app(services) -> FastAPI:
    settings = services.settings
    app = FastAPI(
        title="Patrol",
        version="0.1.0",
        description="Public-post monitoring for internet duty officers: alerts, review, search.",
        docs_url=None, redoc_url=None,  # served from vendored assets by api/routes/docs.py
    )
    app.state.services = services
    secret = load_secret_key(settings.api.secret_key, settings.home)
    app.state.secret_key = secret
    app.state.signer = TokenSigner(secret, ttl_seconds=settings.api.token_ttl_minutes * 60)
    app.state.metrics = ApiMetrics(services)

    install_error_handlers(app)
    app.add_exception_handler(console_web.LoginRequired, console_web.login_redirect)
    # Inside the metrics middleware (added after it), so the 413 is raised where FastAPI reads the body.
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_body_bytes)
    app.middleware("http")(app.state.metrics.record)

    for module in (health, auth, alerts, search, posts, sources, trends, lexicons, audit, console):
        app.include_router(module.router)
    app.include_router(labelling.router)  # issue 15: labels, recall sample, models
    app.include_router(labelling_console.router)
    app.include_router(users.router)
    app.include_router(console_users.router)
    app.include_router(console_admin_rules.router)  # issue 11: rule thresholds and switches
    install_openapi(app)
    app.include_router(console_pages.router)
    app.include_router(docs.router)
    app.include_router(watchlists.router)
    app.include_router(opinion_console.router)
    app.include_router(console_queue.router)
    app.include_router(console_alert.router)
    app.include_router(console_live.router)
    _watch_deadlines(app, settings.api.deadline_check_seconds)
    app.mount("/static", StaticFiles(directory=CONSOLE_DIR / "static"), name="static")

    @app.get("/", include_in_schema=False)
    def root():
        return RedirectResponse("/console/", status_code=303)

    return app


def _watch_deadlines(app: FastAPI, every_seconds: float) -> None:
    """The server-side deadline check while the app runs; app.state.stopping also ends live streams."""
    import threading

    app.state.stopping = threading.Event()

    def start() -> None:
        if every_seconds > 0:
            app.state.stopping = deadline_watch.start(app, every_seconds)

    app.router.on_startup.append(start)
    app.router.on_shutdown.append(lambda: app.state.stopping.set())
