"""RFC 9457 problem+json responses: the exception handlers of the app. A DomainError answers with
its own status and detail; a database outage is a 503 with Retry-After; anything unexpected is a
500 that never echoes internals."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.errors import PROBLEM_JSON, TYPE_BASE, DomainError

log = logging.getLogger("kinga.errors")


def problem_response(
    status: int,
    kind: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {"type": TYPE_BASE + kind, "title": title, "status": status, "detail": detail}
    if extra:  # RFC 9457 extension members
        body = {**extra, **body}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _pointer(loc: tuple[Any, ...]) -> str:
    # FastAPI locations start with where the value came from: body, query, path, header.
    parts = [str(p) for p in loc]
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        out.append({"pointer": _pointer(tuple(err.get("loc", ()))), "detail": str(err.get("msg"))})
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        headers = ({"WWW-Authenticate": getattr(exc, "challenge", "Bearer")}
                   if exc.status == 401 else {})
        headers.update(exc.headers)
        return problem_response(
            exc.status, exc.kind, exc.title, exc.detail,
            instance=request.url.path, errors=exc.errors, headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = validation_errors(exc)
        detail = "; ".join(f"{e['pointer']}: {e['detail']}" for e in errors[:5])
        return problem_response(
            422, "validation", "Invalid input", detail, instance=request.url.path, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        kinds = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}
        headers = dict(exc.headers or {})
        detail = str(exc.detail)
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
            detail = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
        return problem_response(
            exc.status_code, kinds.get(exc.status_code, "http-error"),
            str(exc.detail) if exc.status_code != 404 else "Not found",
            detail, instance=request.url.path, headers=headers or None,
        )

    # Database errors get their own handler (Starlette's ExceptionMiddleware answers it), not the
    # catch-all below: the catch-all runs in ServerErrorMiddleware, which re-raises after
    # answering, so uvicorn logged every outage 503 as a crash and dropped the connection.
    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
            return _unavailable(request, exc)
        return _internal(request, exc)

    @app.exception_handler(psycopg.OperationalError)
    async def _database_raw(request: Request, exc: psycopg.OperationalError) -> Response:
        return _unavailable(request, exc)  # code that talks to psycopg directly (imports)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return _internal(request, exc)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's own 405 names only the first
    route that matched the path, and a path often has one route per method)."""
    from fastapi.routing import iter_route_contexts
    from starlette.routing import Match

    scope = {**request.scope, "method": "GET"}
    methods: set[str] = set()
    for ctx in iter_route_contexts(request.app.router.routes):
        route = getattr(ctx, "starlette_route", None) or ctx.original_route
        match, _ = route.matches(scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable: %s", type(exc).__name__)
    return problem_response(
        503, "unavailable", "Service temporarily unavailable",
        "The database is unreachable; retry later.", instance=request.url.path,
        headers={"Retry-After": "2"},
    )


def _internal(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    return problem_response(
        500, "internal", "Internal error",
        "An unexpected error occurred; it has been logged.", instance=request.url.path,
    )
