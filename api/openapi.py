"""The OpenAPI schema says every answer a route can give, errors included, so a client (and the
schemathesis run in tests/api/test_schema_fuzz.py) can rely on it.

FastAPI documents only 200 and its own 422 (whose shape, with the echoed input, we no longer
send). Here every operation also gets the error answers its shape allows, all `{"detail": ...}`:
401/403 when it needs a login, 404 when it has path parameters, 400 and 422 when it has
parameters, 409 for state changes, 413 when it takes a body, 429 on the login, 503 everywhere
(the database or the index down)."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api.deps import current_caller
from api.schemas import ErrorOut, ValidationErrorOut

_WHY = {
    "400": "a bad filter value, cursor or query (detail says which and why)",
    "401": "not logged in, or the token or session has expired or been ended",
    "403": "the role may not do this, or a cookie-authenticated change lacks its CSRF header",
    "404": "no such alert, post, user or session",
    "409": "not possible in the current state (taken, already decided, name exists)",
    "413": "the request body is larger than the server accepts",
    "422": "a field is missing, of the wrong shape or refused: each problem with its place and reason",
    "429": "too many failed logins for this account or from this address (Retry-After when waiting helps)",
    "503": "the workflow database or the search index is unavailable",
}


def _calls(dependant: Dependant):
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def error_statuses(route: APIRoute) -> list[str]:
    d = route.dependant
    flat = [d, *_all(d)]
    has_body = route.body_field is not None
    has_params = has_body or any(x.query_params or x.path_params or x.header_params or x.cookie_params
                                 for x in flat)
    out = ["503"]
    if current_caller in set(_calls(d)):
        out += ["401", "403"]
    if any(x.path_params for x in flat):
        out.append("404")
    if has_params:
        out += ["400", "422"]
    if route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
        out += ["409", "413"]
        if not has_params:
            out.append("422")  # a body sent where none is expected is still read and may be refused
    if route.path == "/api/auth/token":
        out.append("429")
    return sorted(set(out))


def _all(dependant: Dependant):
    for sub in dependant.dependencies:
        yield sub
        yield from _all(sub)


def install_openapi(app: FastAPI) -> None:
    def build() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ErrorOut, ValidationErrorOut):
            js = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(js.pop("$defs", {}))
            components[model.__name__] = js
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        routes = {(r.path, m.lower()): r for r in app.routes if isinstance(r, APIRoute) for m in r.methods}
        for path, operations in schema.get("paths", {}).items():
            for method, op in operations.items():
                route = routes.get((path, method))
                if route is None:
                    continue
                responses = op.setdefault("responses", {})
                for status in error_statuses(route):
                    model = "ValidationErrorOut" if status == "422" else "ErrorOut"
                    responses[status] = {"description": _WHY[status], "content": {"application/json": {
                        "schema": {"$ref": f"#/components/schemas/{model}"}}}}
        app.openapi_schema = schema
        return schema

    app.openapi = build
