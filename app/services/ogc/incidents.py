"""The `incidents` collection: graded incidents as points, newest first."""

from __future__ import annotations

from typing import Any

import h3
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role, Status
from app.repositories import incidents as incident_repo
from app.repositories import ogc as repo
from app.repositories.incidents import IncidentFilter
from app.services.geo import geojson
from app.services.geo.h3cells import valid_cell
from app.services.incidents.records import PartnerPolicy, partner_filter, present, read
from app.services.ogc.collections import (
    INT,
    STR,
    Collection,
    Context,
    Extent,
    ItemsQuery,
    Page,
    bbox_of,
    feature_uuid,
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
        bbox = bbox_of(e)
        if ctx.role == Role.partner and bbox is not None:  # what partners see: cells
            bbox = await _partner_extent(session, ctx) or bbox
        return Extent(bbox, e["t1"], e["t2"])

    async def items(self, session: AsyncSession, ctx: Context, q: ItemsQuery) -> Page:
        start, end = await self.window(session, ctx, q)
        policy = PartnerPolicy.from_settings(ctx.settings)
        f = IncidentFilter(bbox=q.bbox, start=start, end=end, statuses=ctx.statuses())
        if ctx.role == Role.partner:  # whole cells, approved only, no hidden-field filter
            f = await partner_filter(session, f, policy)
        rows = await repo.incident_items(session, f, limit=q.limit, offset=q.offset)
        matched = await incident_repo.count(session, f)
        feats = [feature(present(r, None, ctx.role, policy)) for r in rows]
        return Page(feats, matched, (start, end))

    async def item(self, session: AsyncSession, ctx: Context, feature_id: str, q: ItemsQuery
                   ) -> dict[str, Any]:
        ident = feature_uuid(feature_id, "incident with id")
        return feature(await read(session, ident, ctx.who,
                                  PartnerPolicy.from_settings(ctx.settings)))


async def _partner_extent(session: AsyncSession, ctx: Context
                          ) -> tuple[float, float, float, float] | None:
    """The bbox of the partner-resolution cell centroids of approved incidents (an exact extent
    would give the exact position of the outermost incidents)."""
    f = IncidentFilter(bbox=(-180.0, -90.0, 180.0, 90.0), statuses=[Status.approved.value])
    cells = await incident_repo.parent_cells(session, f, ctx.settings.partner_max_res, margin_m=0)
    points = [h3.cell_to_latlng(h3.int_to_str(c)) for c in cells if valid_cell(c)]
    if not points:  # none, or only corrupt stored cells
        return None
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    return (round(min(lngs), 6), round(min(lats), 6), round(max(lngs), 6), round(max(lats), 6))


register(Incidents())
