"""The operations map page: `/map` (built assets in app/static/map, sources in frontend/).

The page itself and its basemap need no token (they hold no mission data); the page asks for a
token and calls the API with it, so every layer follows the token's role exactly as any other map
client would.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

from app.api import http
from app.deps import ReadSessionDep, ScopeDep, SettingsDep, require
from app.domain import Role
from app.errors import NotFound
from app.openapi import GeoJSONDoc
from app.schemas.common import SaneDate
from app.schemas.platform import BaseReach, CountryOutlines, MapSession
from app.services.auth import Principal
from app.services.bases import registry as bases_svc
from app.services.planning.reach import base_reaches

STATIC_DIR = Path(__file__).resolve().parents[1] / "static" / "map"
COUNTRIES = "naturalearth-countries.geojson"

# The page may talk to this origin only: no tiles, fonts, CDNs or beacons anywhere else.
# MapLibre builds its web worker from a blob: URL and sets inline styles on its DOM nodes.
CSP = ("default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src blob:; "
       "img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'none'")

router = APIRouter(tags=["map"])


@router.get("/map", include_in_schema=False)
async def map_page() -> Response:
    index = STATIC_DIR / "index.html"
    if not index.is_file():
        raise NotFound("the map page is not built (run `make frontend`)")
    return FileResponse(index, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache",
                                 "X-Content-Type-Options": "nosniff"})


@router.get("/map/countries.geojson", summary="Basemap: bundled Natural Earth country outlines",
            response_class=GeoJSONDoc, response_model=CountryOutlines)
async def countries(settings: SettingsDep) -> Response:
    path = settings.geodata_dir / COUNTRIES
    if not path.is_file():
        raise NotFound("the bundled country outlines are missing")
    return FileResponse(path, media_type=http.GEOJSON,
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/api/v1/map/session", summary="Who the token belongs to (the map page's sign-in)",
            response_model=MapSession)
async def session_info(
    who: Annotated[Principal, Depends(require(*Role))], scope: ScopeDep,
) -> Response:
    m = scope.mission
    return http.json_response({
        "name": who.name, "role": who.role.value,
        "mission": {"code": m.code, "name": m.name, "timezone": m.timezone,
                    "map_view": m.map_view or {"center": [0, 0], "zoom": 2}}})


@router.get("/api/v1/map/reach", summary="Ground patrol reach of each base on a date (map rings)",
            response_model=BaseReach)
async def bases_reach(
    session: ReadSessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(Role.admin, Role.analyst, Role.operations,
                                              Role.partner))],
    scope: ScopeDep,
    as_of: Annotated[SaneDate | None, Query(description="the date (the mission's seasons slow "
                                                        "travel)")] = None,
) -> Response:
    """`{base id: {mode: km}}` for the road and foot modes each base has capacity for, as the
    planner computes them (speeds, detours, rainy season, per-base overrides). Partners are not
    given capacities, so they get no reach."""
    on = as_of or date.today()
    rows = await bases_svc.listing(session, who, as_of=on, kinds=None, bbox=None, sort="name",
                                   scope=scope)
    reach = {str(b["id"]): {r.mode: round(r.reach_km, 2)
                            for r in base_reaches(b, on, settings, modes=("road", "foot"),
                                                  mission=scope.mission)}
             for b in rows}
    return http.json_response({"as_of": on.isoformat(),
                                  "bases": {k: v for k, v in reach.items() if v}})


def install(app: FastAPI) -> None:
    """Serve the built JS/CSS under /map/assets (no directory listing)."""
    app.mount("/map/assets", StaticFiles(directory=STATIC_DIR, check_dir=False),
              name="map-assets")
