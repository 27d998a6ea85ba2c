"""The OpenAPI document, told truthfully from the routes themselves.

FastAPI describes each route's parameters, request body and (where a router declares one) its
success schema. What it cannot see is added here, derived from each route, so a new route is
described the same way without anyone remembering to:
- the bearer security scheme, and `security` on every route that takes a token (a route takes
  one when one of its dependencies is `require(...)`, whose roles become `x-roles`);
- every error it can answer, as RFC 9457 problem+json: 401/403 where a token is taken, 404
  where the path names an object, 413 and 422 where it reads a body or parameters, 409 and 429
  where the router declares them, 503 (database unreachable, with Retry-After) everywhere;
- success schemas for the other media types a route serves (GeoJSON beside JSON).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.responses import JSONResponse

from app.errors import PROBLEM_JSON

GEOJSON = "application/geo+json"
_MODELS: dict[str, type[BaseModel]] = {}


class GeoJSONDoc(JSONResponse):
    """`response_class` of routes that answer GeoJSON: documents their model under
    application/geo+json (the routes return their Response themselves)."""

    media_type = GEOJSON


def media(model: type[BaseModel]) -> dict[str, Any]:
    """A response media type's entry documenting `model` (for a route's `responses`, e.g. the
    GeoJSON form of a route whose default answer is JSON)."""
    _MODELS[model.__name__] = model
    return {"x-model": model.__name__}


def alternatives(model: type[BaseModel], geojson: type[BaseModel]) -> dict[int | str, Any]:
    """`responses` of a route answering `model` as JSON or `geojson` as GeoJSON (?f=geojson)."""
    return {200: {"content": {GEOJSON: media(geojson)}}}

SCHEME = "bearerAuth"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `type` is stable per kind of error.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "urn:kinga:problem:<kind>"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["pointer", "detail"],
                "properties": {
                    "pointer": {"type": "string",
                                "description": "JSON pointer into the request: /body/…, "
                                               "/query/…, /path/…, /header/…, /file/…"},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}
ERRORS = {
    "401": "No token, or a token that is unknown, expired or revoked",
    "403": "The token's role may not use this endpoint (see x-roles)",
    "404": "No such object (or not visible to this role)",
    "409": "Conflicts with the object's current state",
    "413": "The request body is larger than allowed",
    "415": "The body's media type is not one this endpoint reads",
    "422": "A value is refused; `errors` points at each one",
    "429": "Too many requests for this caller; retry after Retry-After seconds",
    "503": "The database is unreachable; retry after Retry-After seconds",
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}


def api_routes(app: FastAPI) -> list[Any]:
    """Every API route of the app (FastAPI's route contexts: an APIRoute's attributes, with the
    prefixes of the routers that include it)."""
    return [ctx for ctx in iter_route_contexts(app.router.routes)
            if isinstance(ctx.original_route, APIRoute)]


def route_roles(route: Any) -> tuple[str, ...] | None:
    """The roles a route's `require(...)` dependency admits, or None if it takes no token."""
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        roles = getattr(dep.call, "roles", None)
        if roles is not None:
            return tuple(r.value for r in roles)
        stack.extend(dep.dependencies)
    return None


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if headers:
        out["headers"] = headers
    return out


def _reads_input(route: Any, op: dict[str, Any]) -> bool:
    d = route.dependant
    stack = [d]
    while stack:
        dep = stack.pop()
        if dep.query_params or dep.path_params or dep.header_params or dep.body_params:
            return True
        stack.extend(dep.dependencies)
    return "requestBody" in op


def _describe(route: Any, op: dict[str, Any]) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    roles = route_roles(route)
    statuses = {"503"}
    if roles is not None:
        op["security"] = [{SCHEME: []}]
        op["x-roles"] = list(roles)
        statuses |= {"401", "403"}
    else:
        op["security"] = []
    if route.dependant.path_params:
        statuses.add("404")
    if "requestBody" in op:
        statuses |= {"413", "422"}
    if _reads_input(route, op):
        statuses.add("422")
    # Statuses a router declares (409, 415, 429…) keep their description, as problem+json.
    for code, resp in list(responses.items()):
        if code[0] in "45":
            statuses.add(code)
            description = resp.get("description") or ERRORS.get(code, "Error")
            if description in ("Validation Error", "Successful Response"):
                description = ERRORS.get(code, description)
            responses[code] = _problem(description, RETRY_AFTER if code in ("429", "503") else None)
    for code in sorted(statuses):
        if code not in responses:
            headers = RETRY_AFTER if code in ("429", "503") else None
            if code == "401":
                headers = {"WWW-Authenticate": {"schema": {"type": "string"}}}
            responses[code] = _problem(ERRORS[code], headers)
    # A schema declared for JSON describes the other JSON media types a route serves too.
    for code, resp in responses.items():
        content = resp.get("content") or {}
        if code[0] != "2" or not content:
            continue
        schema = next((c.get("schema") for c in content.values() if c.get("schema")), None)
        for media, c in content.items():
            if not c.get("schema") and schema is not None and "json" in media:
                c["schema"] = schema
            if not c.get("schema"):
                c["schema"] = _body_schema(media)


# Bodies that are files or documents rather than JSON records: a string, binary where the format
# is. A JSON body without a declared model is documented as an object (docs/hardening.md lists
# the operations that still lack their own model).
_TEXT = ("text/", "application/xml")


def _body_schema(media: str) -> dict[str, Any]:
    if "json" in media:
        return {"type": "object", "description": "a JSON document (shape in the route's docs)"}
    if media.startswith(_TEXT):
        return {"type": "string"}
    return {"type": "string", "format": "binary"}


def build(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes, tags=app.openapi_tags)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = {SCHEME: {
        "type": "http", "scheme": "bearer", "bearerFormat": "kinga token",
        "description": "An API token: `kinga token create --role ROLE --name NAME`"}}
    _resolve_models(doc, schemas)
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        path_item = doc["paths"].get(route.path_format, {})
        for method in route.methods:
            op = path_item.get(method.lower())
            if op is not None:
                _describe(route, op)
    return doc


def _resolve_models(doc: dict[str, Any], schemas: dict[str, Any]) -> None:
    for path_item in doc["paths"].values():
        for op in path_item.values():
            for resp in (op.get("responses") or {}).values():
                for entry in (resp.get("content") or {}).values():
                    name = entry.pop("x-model", None)
                    if name is None:
                        continue
                    schema = _MODELS[name].model_json_schema(
                        ref_template="#/components/schemas/{model}", mode="serialization")
                    for sub, sub_schema in schema.pop("$defs", {}).items():
                        schemas.setdefault(sub, sub_schema)
                    schemas.setdefault(name, schema)
                    entry["schema"] = {"$ref": f"#/components/schemas/{name}"}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
