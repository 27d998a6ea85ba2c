"""The `hotspots` collection: H3 hexagons with threat scores for a time window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.repositories import ogc as repo
from app.services.geo.h3cells import cell_polygon
from app.services.ogc.collections import (
    INT,
    NUM,
    STR,
    Collection,
    Context,
    Extent,
    ItemsQuery,
    Page,
    bbox_of,
    register,
)
from app.services.threat.layer import HotspotQuery, parse_cell, threat_layer
from app.services.threat.layer import window as layer_window

DEFAULT_RES = 6
WINDOW_DAYS = HotspotQuery().window_days


def hotspot_feature(cell: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": cell["cell"], "geometry": cell_polygon(cell["cell"]),
            "properties": cell}


class Hotspots(Collection):
    id = "hotspots"
    title = "Threat hotspots"
    description = (
        f"H3 hexagons with threat scores for a time window (query `res` 4-9, default "
        f"{DEFAULT_RES}). Without `datetime`, the {WINDOW_DAYS} days ending at the newest incident "
        "(or now, if that is sooner) — a store of historical events still shows its last window. "
        "An instant is the end of a window of that length; an interval is the window.")
    geometry_type = "Polygon"
    parameters = ("res",)
    properties = {
        "cell": STR, "resolution": INT, "threat_score": NUM, "threat_level": STR, "protection_tier": STR,
        "likelihood": NUM, "impact": NUM, "crsv_impact": NUM, "vulnerability": NUM, "incidents": INT,
        "fatalities": INT, "crsv": INT, "pattern": STR, "level_label": STR,
    }

    async def extent(self, session: AsyncSession, ctx: Context) -> Extent:
        e = await repo.incident_extent(session, ctx.statuses())
        return Extent(bbox_of(e), e["t1"], e["t2"])

    async def default_window(self, session: AsyncSession, ctx: Context
                             ) -> tuple[datetime | None, datetime | None]:
        latest = await repo.latest_incident(session, ctx.statuses())
        end = min(latest, ctx.now) if latest is not None else ctx.now
        return end - timedelta(days=WINDOW_DAYS), end

    async def _query(self, session: AsyncSession, ctx: Context, q: ItemsQuery, res: int
                     ) -> HotspotQuery:
        hq = HotspotQuery(res=res, bbox=q.bbox, role=ctx.role, with_reporting=True)
        if not q.has_datetime:
            _, hq.as_of = await self.default_window(session, ctx)
        elif q.start is not None and q.end is None:
            hq.start, hq.end = q.start, datetime.now(UTC)
        elif q.end is not None and q.start is None:  # the default length, ending there
            hq.as_of = q.end
        elif q.start is not None and q.end is not None and q.end - q.start < timedelta(days=1):
            hq.as_of = q.end  # an instant (or one day): the window ending then
        else:
            hq.start, hq.end = q.start, q.end
        return hq

    async def items(self, session: AsyncSession, ctx: Context, q: ItemsQuery) -> Page:
        hq = await self._query(session, ctx, q, q.res or DEFAULT_RES)
        cells = await threat_layer(session, hq, ctx.settings)
        feats = [hotspot_feature(c) for c in cells[q.offset:q.offset + q.limit]]
        w = layer_window(hq)
        return Page(feats, len(cells), (w.start, w.end))

    async def item(self, session: AsyncSession, ctx: Context, feature_id: str, q: ItemsQuery
                   ) -> dict[str, Any]:
        _, res = parse_cell(feature_id)
        hq = await self._query(session, ctx, q, res)
        hq.bbox = None
        cells = await threat_layer(session, hq, ctx.settings)
        found = next((c for c in cells if c["cell"] == feature_id), None)
        if found is None:
            raise NotFound(f"no hotspot {feature_id} in this time window")
        return hotspot_feature(found)


register(Hotspots())
