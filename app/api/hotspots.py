"""Threat layer: /api/v1/hotspots (GeoJSON), /{cell} (detail), /tiles/{z}/{x}/{y}.mvt."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import Response

from app.api import http
from app.deps import (
    BBox,
    ReadSessionDep,
    ScopeDep,
    SettingsDep,
    TimeWindow,
    parse_instant,
    require,
)
from app.domain import Role
from app.errors import InvalidInput
from app.openapi import GeoJSONDoc
from app.schemas.common import DECAY_SCALE_MAX_DAYS, DECAY_SCALE_MIN_DAYS
from app.schemas.hotspots import HotspotCollection, HotspotDetail, HotspotSeries
from app.services.auth import Principal
from app.services.threat import tiles
from app.services.threat.layer import HotspotQuery, cell_detail_json, layer_geojson, layer_tile
from app.services.threat.series import SeriesQuery, level_series_json

router = APIRouter(prefix="/api/v1/hotspots", tags=["hotspots"])

READERS = (Role.admin, Role.analyst, Role.operations, Role.partner)


def split_csv(value: str | None) -> list[str] | None:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    return items or None


async def hotspot_query(
    bbox: BBox, window: TimeWindow, scope: ScopeDep,
    as_of: Annotated[str | None, Query(description="window end: ISO date or date-time")] = None,
    window_days: Annotated[int, Query(ge=1, le=36_600)] = 90,
    category: Annotated[str | None, Query(description="comma-separated category codes")] = None,
    perpetrator: Annotated[str | None, Query(max_length=200)] = None,
    min_level: Annotated[str | None, Query(pattern="^(low|medium|high|critical)$")] = None,
    min_grade: Annotated[str | None, Query(pattern="^[abc]$")] = None,
    pattern: Annotated[bool, Query(description="compute emerging hot-spot classes")] = True,
    reporting: Annotated[bool, Query(description="add each cell's reporting effort and label "
                                     "'low — thin reporting' (docs/scoring.md)")] = False,
    decay_scale_days: Annotated[float | None, Query(
        ge=DECAY_SCALE_MIN_DAYS, le=DECAY_SCALE_MAX_DAYS,
        description="recency decay scale in days (default: the mission's, else the "
                    "server's)")] = None,
    precision_decay: Annotated[bool | None, Query(
        description="widen each event's decay by its date precision (a year-precise event "
                    "decays over a year); default: the mission's")] = None,
) -> HotspotQuery:
    """Query parameters shared by the layer, the tiles and the OGC hotspot collection
    (resolution is added by each endpoint; the service validates the rest). `mission=` and
    `aor=` clip the layer to that area."""
    return HotspotQuery(
        as_of=parse_instant(as_of, "as_of", end_of_day=True), window_days=window_days,
        start=window[0], end=window[1], bbox=bbox, categories=split_csv(category),
        perpetrator=perpetrator, min_level=min_level, min_grade=min_grade, with_pattern=pattern,
        with_reporting=reporting,
        area=scope.area, area_key=scope.key,
        decay_scale_days=decay_scale_days or scope.mission.decay_scale_days,
        precision_decay=scope.mission.precision_decay if precision_decay is None
        else precision_decay)


QueryDep = Annotated[HotspotQuery, Depends(hotspot_query)]


@router.get("", summary="Threat layer: H3 hexagons with threat scores (GeoJSON)",
            response_model=HotspotCollection, response_class=GeoJSONDoc)
async def hotspots(
    request: Request, q: QueryDep, session: ReadSessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*READERS))],
    res: Annotated[int, Query(ge=4, le=9, description="H3 resolution")] = 6,
) -> Response:
    q.res, q.role = res, who.role
    gz = accepts_gzip(request)
    return http.conditional(request, await layer_geojson(session, q, settings, gzip=gz),
                            http.GEOJSON, encoded=gz)


@router.get("/series", summary="Time slider: per step, the cells whose threat level changed",
            response_model=HotspotSeries)
async def hotspot_series(
    request: Request, q: QueryDep, session: ReadSessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*READERS))],
    res: Annotated[int, Query(ge=4, le=9, description="H3 resolution")] = 6,
    step_days: Annotated[int, Query(ge=1, le=366, description="days between steps")] = 7,
) -> Response:
    """Step k ends at start + k x step_days (up to end); each step is the layer of
    `window_days` ending then (same filters and role rules, no emerging pattern). A step lists
    only the cells whose level changed since the previous step (level null: left the layer)."""
    if q.start is None or q.end is None:
        missing = "start" if q.start is None else "end"
        raise InvalidInput(f"{missing} is required", errors=[
            {"pointer": f"/query/{missing}", "detail": "ISO 8601 date or date-time"}])
    sq = SeriesQuery(start=q.start, end=q.end, step_days=step_days, layer=q)
    q.res, q.role = res, who.role
    gz = accepts_gzip(request)
    return http.conditional(request, await level_series_json(session, sq, settings, gzip=gz),
                            "application/json", encoded=gz)


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


def encoding_headers(gz: bool) -> dict[str, str]:
    return {"Vary": "Accept-Encoding", **({"Content-Encoding": "gzip"} if gz else {})}


@router.get("/tiles/{z}/{x}/{y}.mvt", summary="Threat layer as a Mapbox Vector Tile",
            response_class=Response,
            responses={200: {"content": {tiles.MVT_MEDIA_TYPE: {
                "schema": {"type": "string", "format": "binary"}}}}})
async def hotspot_tile(
    z: int, x: int, y: int, q: QueryDep, session: ReadSessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*READERS))],
) -> Response:
    tiles.check_tile(z, x, y)
    res = tiles.res_for_zoom(z)
    if who.role == Role.partner:
        res = min(res, settings.partner_max_res)
    bounds = tiles.tile_bbox(z, x, y)
    q.res, q.role, q.bbox = res, who.role, bounds
    return Response(await layer_tile(session, q, z, x, y, settings),
                    media_type=tiles.MVT_MEDIA_TYPE,
                    headers={"Cache-Control": "no-store"})


@router.get("/{cell}", summary="One cell: weekly series, breakdowns, contributing incidents",
            response_model=HotspotDetail,
            responses={404: {"description": "Not an H3 cell at resolution 4-9"}})
async def hotspot_detail(
    cell: str, q: QueryDep, session: ReadSessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*READERS))],
) -> Response:
    q.role = who.role
    return Response(await cell_detail_json(session, cell, q, settings),
                    media_type="application/json")
