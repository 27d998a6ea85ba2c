"""The operations map page: `/map` (built assets in app/static/map, sources in frontend/).

The page itself and its basemap need no token (they hold no mission data); the page asks for a
token and calls the API with it, so every layer follows the token's role exactly as any other map
client would.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import FileResponse, Response

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


MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8", ".json": "application/json",
         ".txt": "text/plain; charset=utf-8"}
_ASSETS: dict[str, tuple[float, bytes]] = {}  # name → (mtime, bytes): read once per build


def _asset(name: str) -> bytes:
    """A built file's bytes, read once (and again only when the build changes it)."""
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or name.endswith(".br") or not path.is_file():
        raise NotFound(f"no asset {name}")
    mtime = path.stat().st_mtime
    cached = _ASSETS.get(name)
    if cached is None or cached[0] != mtime:
        cached = _ASSETS[name] = (mtime, path.read_bytes())
    return cached[1]


def _brotli(name: str) -> bytes | None:
    """The build's brotli copy of a file (`<name>.br`), only while `brotli.json` says it was made
    from the file as it is now (sha256), so a stale copy is never sent."""
    packed = STATIC_DIR / f"{name}.br"
    if not packed.is_file() or not (STATIC_DIR / "brotli.json").is_file():
        return None
    made_from = orjson.loads(_asset("brotli.json")).get(name)
    if made_from is None or made_from != _sha256(name):
        return None
    mtime = packed.stat().st_mtime
    cached = _ASSETS.get(f"{name}.br")
    if cached is None or cached[0] != mtime:
        cached = _ASSETS[f"{name}.br"] = (mtime, packed.read_bytes())
    return cached[1]


_SHA: dict[str, tuple[float, str]] = {}  # name → (mtime, sha256): hashed once per build


def _sha256(name: str) -> str:
    body = _asset(name)
    mtime = _ASSETS[name][0]
    found = _SHA.get(name)
    if found is None or found[0] != mtime:
        found = _SHA[name] = (mtime, hashlib.sha256(body).hexdigest())
    return found[1]


def _serve(request: Request, name: str, headers: dict[str, str] | None = None) -> Response:
    """Built files go out with an ETag (`no-cache`: the browser revalidates and gets a 304 of a
    few hundred bytes when nothing changed), as the build's brotli copy to clients that accept
    br, else gzip-compressed once per build."""
    media = MEDIA.get(Path(name).suffix, "application/octet-stream")
    body = _asset(name)
    return http.conditional(request, body, media, cache_control="no-cache",
                            headers={"X-Content-Type-Options": "nosniff", **(headers or {})},
                            brotli=_brotli(name) if http.accepts_br(request) else None)


@router.get("/map", include_in_schema=False)
async def map_page(request: Request) -> Response:
    if not (STATIC_DIR / "index.html").is_file():
        raise NotFound("the map page is not built (run `make frontend`)")
    return _serve(request, "index.html", {"Content-Security-Policy": CSP})


@router.get("/map/sw.js", include_in_schema=False)
async def service_worker(request: Request) -> Response:
    """The workbench's service worker (offline shell and last layers); it controls /map."""
    return _serve(request, "sw.js", {"Service-Worker-Allowed": "/map"})


@router.get("/map/assets/{name}", include_in_schema=False)
async def asset(request: Request, name: str) -> Response:
    return _serve(request, name)


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
    settings: SettingsDep, who: Annotated[Principal, Depends(require(*Role))], scope: ScopeDep,
) -> Response:
    """The token's name and role, its mission (the header shows it; times are shown in its time
    zone) and the workbench's poll interval and acknowledgement target."""
    m = scope.mission
    return http.json_response({
        "name": who.name, "role": who.role.value,
        "mission": {"code": m.code, "name": m.name, "timezone": m.timezone,
                    "map_view": m.map_view or {"center": [0, 0], "zoom": 2}},
        "poll_s": settings.workbench_poll_s, "ack_minutes": settings.workbench_ack_minutes})


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


