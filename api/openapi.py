"""The OpenAPI schema says every answer a route can give, errors included, so a client (and the
schemathesis run in tests/api/test_schema_fuzz.py) can rely on it.

FastAPI documents only 200 and its own 422 (whose shape, with the echoed input, we no longer
send). Here every operation also gets the error answers its shape allows, all `{"detail": ...}`:
401/403 when it needs a login, 404 when it has path parameters, 400 and 422 when it has
parameters, 409 for state changes, 413 when it takes a body, 429 on the login, 503 everywhere
(the database or the index down)."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

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


def error_statuses(path: str, method: str, op: dict) -> list[str]:
    """The error answers an operation can give, from its own description in the schema: the
    bearer security (api.deps.current_caller declares it), its parameters and body."""
    params = op.get("parameters", [])
    out = {"503"}
    if op.get("security"):
        out |= {"401", "403"}
    if any(p.get("in") == "path" for p in params) or "requestBody" in op:
        out.add("404")  # a path or a body names a record (an alert, a post id) that may not exist
    if params or "requestBody" in op:
        out |= {"400", "422"}
    if method in ("post", "put", "patch", "delete"):
        out |= {"409", "413", "422"}  # a body is read (and may be refused) even where none is expected
    if path == "/api/auth/token":
        out |= {"401", "429"}  # a wrong name or password; too many of them
    return sorted(out)


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
        for path, operations in schema.get("paths", {}).items():
            for method, op in operations.items():
                responses = op.setdefault("responses", {})
                for status in error_statuses(path, method, op):
                    model = "ValidationErrorOut" if status == "422" else "ErrorOut"
                    responses[status] = {"description": _WHY[status], "content": {"application/json": {
                        "schema": {"$ref": f"#/components/schemas/{model}"}}}}
        app.openapi_schema = schema
        return schema

    app.openapi = build
