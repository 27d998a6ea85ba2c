"""Incidents as vector tiles: /api/v1/incidents/tiles/{z}/{x}/{y}.mvt."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.deps import ReadSessionDep, SettingsDep, TimeWindow, require
from app.domain import Role
from app.services.auth import Principal
from app.services.threat.tiles import MVT_MEDIA_TYPE
from app.services.tiles import incidents as svc

router = APIRouter(prefix="/api/v1/incidents/tiles", tags=["incidents"])

READERS = (Role.admin, Role.analyst, Role.operations, Role.partner)


@router.get("/{z}/{x}/{y}.mvt", summary="Incidents as a Mapbox Vector Tile (layer `incidents`)",
            response_class=Response, responses={200: {"content": {MVT_MEDIA_TYPE: {}}}})
async def incident_tile(
    z: int, x: int, y: int, window: TimeWindow, session: ReadSessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*READERS))],
) -> Response:
    """Points newest first (at most 20,000 per tile); `start`/`end` bound when they occurred
    (default: every incident the role may see). Partners: approved incidents only."""
    body = await svc.tile(session, z, x, y, role=who.role, settings=settings, start=window[0],
                          end=window[1])
    return Response(body, media_type=MVT_MEDIA_TYPE, headers={"Cache-Control": "no-store"})
