"""Exports: /api/v1/exports/incidents (CSV, GeoPackage) and /api/v1/exports/hotspots (CSV,
GeoPackage, HXL). Exports above the configured row limit stream and say so in their headers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response, StreamingResponse

from app.api.hotspots import QueryDep
from app.deps import BBox, ReadSessionDep, SettingsDep, TimeWindow, require
from app.domain import Category, Role, Status
from app.errors import InvalidInput
from app.repositories.incidents import IncidentFilter
from app.services.auth import Principal
from app.services.exports import hotspots as hotspot_exports
from app.services.exports import incidents as incident_exports
from app.services.exports.files import Export

router = APIRouter(prefix="/api/v1/exports", tags=["exports"])

ANALYSTS = (Role.admin, Role.analyst)
LAYER_READERS = (Role.admin, Role.analyst, Role.operations, Role.partner)


def _choice(value: str | None, allowed: tuple[str, ...], name: str) -> list[str] | None:
    if not value:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad:
        raise InvalidInput(f"unknown {name}: {', '.join(bad)}", errors=[
            {"pointer": f"/query/{name}", "detail": f"one of {', '.join(allowed)}"}])
    return items


def _format(f: str, allowed: tuple[str, ...]) -> str:
    if f not in allowed:
        raise InvalidInput(f"f must be one of {', '.join(allowed)}",
                           errors=[{"pointer": "/query/f", "detail": " or ".join(allowed)}])
    return f


def _respond(export: Export) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{export.filename}"',
               "X-Kinga-Export-Rows": str(export.rows),
               "X-Kinga-Export-Mode": "streamed" if export.streamed else "in-memory"}
    if export.chunks is not None:
        return StreamingResponse(export.chunks, media_type=export.media_type, headers=headers)
    if export.path is not None:
        path = export.path
        return FileResponse(path, media_type=export.media_type, headers=headers,
                            background=BackgroundTask(path.unlink, missing_ok=True))
    return Response(export.body or b"", media_type=export.media_type, headers=headers)


@router.get("/incidents", summary="Incidents as CSV or GeoPackage (analysts)",
            response_class=Response,
            responses={200: {"content": {"text/csv": {},
                                         "application/geopackage+sqlite3": {}}}})
async def export_incidents(
    request: Request, settings: SettingsDep, bbox: BBox, window: TimeWindow,
    who: Annotated[Principal, Depends(require(*ANALYSTS))],
    f: Annotated[str, Query(description="csv or gpkg")] = "csv",
    category: Annotated[str | None, Query(description="comma-separated categories")] = None,
    status: Annotated[str | None, Query(description="comma-separated workflow statuses")] = None,
) -> Response:
    """Every field analysts see, one row per incident, oldest first. Up to
    `KINGA_EXPORT_MAX_ROWS_IN_MEMORY` rows the file is built in memory; above, it streams
    (`X-Kinga-Export-Mode: streamed`, no Content-Length)."""
    fmt = _format(f, incident_exports.FORMATS)
    flt = IncidentFilter(bbox=bbox, start=window[0], end=window[1],
                         categories=_choice(category, tuple(c.value for c in Category), "category"),
                         statuses=_choice(status, tuple(s.value for s in Status), "status"))
    return _respond(await incident_exports.export(request.app.state.sessionmaker, flt, fmt,
                                                  settings))


@router.get("/hotspots", summary="The threat layer as CSV, GeoPackage or HXL (partners too)",
            response_class=Response,
            responses={200: {"content": {"text/csv": {},
                                         "application/geopackage+sqlite3": {}}}})
async def export_hotspots(
    q: QueryDep, session: ReadSessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*LAYER_READERS))],
    f: Annotated[str, Query(description="csv, gpkg or hxl")] = "hxl",
    res: Annotated[int, Query(ge=4, le=9, description="H3 resolution")] = 6,
) -> Response:
    """Takes the layer's parameters (`as_of`, `window_days`, `res`, …). `f=hxl` is the sanitised
    partner layer whoever asks: first row the column names, second row the HXL hashtags, counts
    below the suppression threshold left empty. CSV and GeoPackage are the layer as the caller's
    role sees it."""
    fmt = _format(f, hotspot_exports.FORMATS)
    q.res, q.role = res, who.role
    return _respond(await hotspot_exports.export(session, q, fmt, settings))
