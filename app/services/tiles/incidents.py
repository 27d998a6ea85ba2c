"""Incidents as Mapbox Vector Tiles (layer `incidents`, points), beside the threat layer's tiles.

Everyone gets the same few properties: category, date, status, grade, fatalities, CRSV survivors,
location radius — never narrative, perpetrators or sources (those are not in tiles at all).
Partners get the partner view of an incident (app.services.access.disclosure): approved ones
only, each at the centroid of its cell at KINGA_PARTNER_MAX_RES, counts under
KINGA_PARTNER_MIN_COUNT left out, and a tile holds the cells whose centroid lies in it (never
a selection by exact point)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role, Status
from app.repositories import incidents as incident_repo
from app.repositories import tiles as repo
from app.services.access.disclosure import PartnerPolicy, partner_incident
from app.services.incidents.records import partner_filter
from app.services.threat.tiles import BUFFER, EXTENT, check_tile, tile_bbox
from app.settings import Settings

LAYER = "incidents"
MAX_FEATURES = 20_000  # per tile, newest first; a client zooms in for the rest


async def tile(session: AsyncSession, z: int, x: int, y: int, *, role: Role, settings: Settings,
               start: datetime | None, end: datetime | None) -> bytes:
    check_tile(z, x, y)
    if role == Role.partner:
        return await _partner_tile(session, z, x, y, settings=settings, start=start, end=end)
    statuses = [Status.entered.value, Status.validated.value, Status.approved.value]
    return await repo.incident_mvt(session, z, x, y, layer=LAYER, extent=EXTENT, buffer=BUFFER,
                                   statuses=statuses, start=start, end=end,
                                   max_features=MAX_FEATURES)


async def _partner_tile(session: AsyncSession, z: int, x: int, y: int, *, settings: Settings,
                        start: datetime | None, end: datetime | None) -> bytes:
    policy = PartnerPolicy.from_settings(settings)
    x1, y1, x2, y2 = tile_bbox(z, x, y)
    margin_x, margin_y = (x2 - x1) * BUFFER / EXTENT, (y2 - y1) * BUFFER / EXTENT
    f = incident_repo.IncidentFilter(
        bbox=(max(x1 - margin_x, -180.0), max(y1 - margin_y, -90.0), min(x2 + margin_x, 180.0),
              min(y2 + margin_y, 90.0)),
        start=start, end=end, statuses=[Status.approved.value])
    f = await partner_filter(session, f, policy)  # whole cells, by centroid
    rows = await incident_repo.page(session, f, limit=MAX_FEATURES, after=None)
    shown = [p for p in (partner_incident(dict(r), policy) for r in rows)
             if p.get("latitude") is not None]  # no cell, no place for partners
    features: dict[str, list[Any]] = {
        "ids": [str(r["id"]) for r in shown],
        "categories": [r["category"] for r in shown],
        "occurred": [r["occurred_start"].astimezone(UTC).strftime("%Y-%m-%d") for r in shown],
        "statuses": [r["status"] for r in shown],
        "grades": [r["quality_grade"] for r in shown],
        "fatalities": [r.get("fatalities_best") for r in shown],
        "crsv": [r.get("crsv_survivors") for r in shown],
        "radii": [r.get("location_radius_m") for r in shown],
        "lons": [float(r["longitude"]) for r in shown],
        "lats": [float(r["latitude"]) for r in shown],
    }
    return await repo.points_mvt(session, z, x, y, layer=LAYER, extent=EXTENT, buffer=BUFFER,
                                 features=features)
