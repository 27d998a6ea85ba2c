"""OGC API - Features collections (incidents, hotspots): extents, pages and single items, as the
caller's role may see them. Link building stays in the router (it is HTTP shaping)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import WORKFLOW_STATUSES, Role, Status
from app.errors import InvalidInput, NotFound
from app.repositories import incidents as incident_repo
from app.repositories import ogc as repo
from app.repositories.incidents import IncidentFilter
from app.services.auth import Principal
from app.services.geo import geojson
from app.services.geo.h3cells import cell_polygon
from app.services.incidents.records import present, read
from app.services.threat.layer import HotspotQuery, parse_cell, threat_layer
from app.settings import Settings

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
COLLECTIONS = {
    "incidents": ("Incidents", "Graded incidents against civilians (points), newest first."),
    "hotspots": ("Threat hotspots", "H3 hexagons with threat scores for a time window "
                 "(query `res` 4-9, default 6; `datetime` interval, default the last 90 days)."),
}


def parse_datetime(value: str | None) -> tuple[datetime | None, datetime | None]:
    """OGC `datetime`: an instant, or an interval `a/b` with `..` or empty for an open end."""
    from app.deps import parse_instant

    if not value:
        return None, None
    if "/" in value:
        a, _, b = value.partition("/")
        start, end = parse_instant(a, "datetime"), parse_instant(b, "datetime", end_of_day=True)
    else:
        start, end = parse_instant(value, "datetime"), parse_instant(value, "datetime",
                                                                      end_of_day=True)
    if start and end and end < start:
        raise InvalidInput("datetime interval ends before it starts",
                           errors=[{"pointer": "/query/datetime", "detail": "end before start"}])
    return start, end


def _statuses(role: Role, settings: Settings) -> list[str] | None:
    if role == Role.partner and settings.partner_approved_only:
        return [Status.approved.value]
    # Merged accounts and held possible duplicates are not incidents of their own.
    return [s.value for s in WORKFLOW_STATUSES]


async def extent(session: AsyncSession, collection: str, role: Role, settings: Settings
                 ) -> dict[str, Any]:
    e = await repo.incident_extent(session, _statuses(role, settings))
    bbox = ([e["x1"], e["y1"], e["x2"], e["y2"]] if e["x1"] is not None
            else [-180.0, -90.0, 180.0, 90.0])
    t1 = e["t1"].isoformat() if e["t1"] else None
    t2 = e["t2"].isoformat() if e["t2"] and collection == "incidents" else None
    return {"spatial": {"bbox": [bbox], "crs": CRS84},
            "temporal": {"interval": [[t1, t2]],
                         "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}}


def _incident_feature(row: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in row.items() if k not in ("longitude", "latitude", "id")}
    return geojson.point_feature(str(row["id"]), row["longitude"], row["latitude"], props)


def hotspot_feature(cell: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": cell["cell"], "geometry": cell_polygon(cell["cell"]),
            "properties": cell}


async def items(session: AsyncSession, collection: str, *, role: Role, settings: Settings,
                bbox: tuple[float, float, float, float] | None, start: datetime | None,
                end: datetime | None, res: int, limit: int, offset: int
                ) -> tuple[list[dict[str, Any]], int]:
    """One page of features and the number matched."""
    if collection == "incidents":
        f = IncidentFilter(bbox=bbox, start=start, end=end, statuses=_statuses(role, settings))
        rows = await repo.incident_items(session, f, limit=limit, offset=offset)
        matched = await incident_repo.count(session, f)
        return [_incident_feature(present(r, None, role) | {"longitude": r["longitude"],
                                                            "latitude": r["latitude"]})
                for r in rows], matched
    cells = await threat_layer(session, _hotspot_query(res, bbox, role, start, end), settings)
    return [hotspot_feature(c) for c in cells[offset:offset + limit]], len(cells)


def _hotspot_query(res: int, bbox: tuple[float, float, float, float] | None, role: Role,
                   start: datetime | None, end: datetime | None) -> HotspotQuery:
    q = HotspotQuery(res=res, bbox=bbox, role=role, start=start, end=end)
    if start is not None and end is None:
        q.end = datetime.now(UTC)
    elif end is not None and start is None:  # the default window, ending there
        q.start, q.end, q.as_of = None, None, end
    return q


async def item(session: AsyncSession, collection: str, feature_id: str, *, who: Principal,
               settings: Settings, start: datetime | None = None, end: datetime | None = None
               ) -> dict[str, Any]:
    role = who.role
    if collection == "incidents":
        try:
            ident = uuid.UUID(feature_id)
        except ValueError:
            raise NotFound(f"no incident with id {feature_id}") from None
        return _incident_feature(await read(session, ident, who))
    _, res = parse_cell(feature_id)
    cells = await threat_layer(session, _hotspot_query(res, None, role, start, end), settings)
    found = next((c for c in cells if c["cell"] == feature_id), None)
    if found is None:
        raise NotFound(f"no hotspot {feature_id} in this time window")
    return hotspot_feature(found)

