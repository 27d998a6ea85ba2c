"""The `incidents` collection: graded incidents as points, newest first."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.repositories import incidents as incident_repo
from app.repositories import ogc as repo
from app.repositories.incidents import IncidentFilter
from app.services.geo import geojson
from app.services.incidents.records import present, read
from app.services.ogc.collections import (
    INT,
    STR,
    Collection,
    Context,
    Extent,
    ItemsQuery,
    Page,
    bbox_of,
    register,
)


def feature(row: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in row.items() if k not in ("longitude", "latitude", "id")}
    return geojson.point_feature(str(row["id"]), row["longitude"], row["latitude"], props)


class Incidents(Collection):
    id = "incidents"
    title = "Incidents"
    description = ("Graded incidents against civilians (points), newest first. `datetime` filters "
                   "on when they occurred; without it every incident the role may see is served.")
    geometry_type = "Point"
    properties = {
        "occurred_start": {**STR, "format": "date-time"}, "category": STR, "status": STR,
        "quality_grade": STR, "fatalities_best": INT, "injured": INT, "crsv_survivors": INT,
        "children_affected": INT, "displaced": INT, "h3_cell": STR, "location_radius_m": INT,
        "perpetrator_type": STR,
    }

    async def extent(self, session: AsyncSession, ctx: Context) -> Extent:
        e = await repo.incident_extent(session, ctx.statuses())
        return Extent(bbox_of(e), e["t1"], e["t2"])

    async def items(self, session: AsyncSession, ctx: Context, q: ItemsQuery) -> Page:
        start, end = await self.window(session, ctx, q)
        f = IncidentFilter(bbox=q.bbox, start=start, end=end, statuses=ctx.statuses())
        rows = await repo.incident_items(session, f, limit=q.limit, offset=q.offset)
        matched = await incident_repo.count(session, f)
        feats = [feature(present(r, None, ctx.role) | {"longitude": r["longitude"],
                                                        "latitude": r["latitude"]})
                 for r in rows]
        return Page(feats, matched, (start, end))

    async def item(self, session: AsyncSession, ctx: Context, feature_id: str, q: ItemsQuery
                   ) -> dict[str, Any]:
        try:
            ident = uuid.UUID(feature_id)
        except ValueError:
            raise NotFound(f"no incident with id {feature_id}") from None
        return feature(await read(session, ident, ctx.who))


register(Incidents())
