"""Incidents as Mapbox Vector Tiles (layer `incidents`, points), beside the threat layer's tiles.

Partners get approved incidents only and the same few properties as everyone: category, date,
status, grade, fatalities, CRSV survivors, location radius — never narrative, perpetrators or
sources (those are not in tiles at all)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role, Status
from app.repositories import tiles as repo
from app.services.threat.tiles import BUFFER, EXTENT, check_tile
from app.settings import Settings

LAYER = "incidents"
MAX_FEATURES = 20_000  # per tile, newest first; a client zooms in for the rest


async def tile(session: AsyncSession, z: int, x: int, y: int, *, role: Role, settings: Settings,
               start: datetime | None, end: datetime | None) -> bytes:
    check_tile(z, x, y)
    if role == Role.partner and settings.partner_approved_only:
        statuses = [Status.approved.value]
    else:
        statuses = [Status.entered.value, Status.validated.value, Status.approved.value]
    return await repo.incident_mvt(session, z, x, y, layer=LAYER, extent=EXTENT, buffer=BUFFER,
                                   statuses=statuses, start=start, end=end,
                                   max_features=MAX_FEATURES)
