"""The `reporting-effort` collection: reports per H3 cell against the cell's own history and its
neighbours (staff only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.services.ogc.collections import (
    INT,
    NUM,
    STAFF,
    STR,
    Collection,
    Context,
    Extent,
    ItemsQuery,
    Page,
    register,
)
from app.services.ogc.hotspots import DEFAULT_RES, Hotspots
from app.services.threat import reporting_layer as svc
from app.services.threat.layer import parse_cell
from app.services.threat.layer import window as layer_window


class ReportingEffort(Collection):
    id = "reporting-effort"
    title = "Reporting effort"
    description = (
        "Reports per H3 cell in a window (query `res`, default 6) against the cell's own history "
        "and its neighbours; `status` none / thin / adequate (docs/scoring.md). Same default "
        "window as `hotspots`.")
    geometry_type = "Polygon"
    readers = STAFF
    parameters = ("res",)
    properties = {
        "cell": STR, "resolution": INT, "reports": INT, "sections": INT, "sources": INT,
        "incidents": INT, "history_mean": NUM, "neighbour_mean": NUM, "status": STR,
        "last_report": {**STR, "format": "date-time"},
    }
    _hotspots = Hotspots()

    async def extent(self, session: AsyncSession, ctx: Context) -> Extent:
        return await self._hotspots.extent(session, ctx)

    async def _features(self, session: AsyncSession, ctx: Context, q: ItemsQuery, res: int
                        ) -> tuple[list[dict[str, Any]], Any]:
        hq = await self._hotspots._query(session, ctx, q, res)
        hq.with_reporting = False
        feats = await svc.layer(session, hq, ctx.settings)
        if q.bbox is not None:
            from app.services.threat.layer import _in_bbox

            feats = [f for f in feats if _in_bbox(f["id"], q.bbox, res)]
        return feats, layer_window(hq)

    async def items(self, session: AsyncSession, ctx: Context, q: ItemsQuery) -> Page:
        feats, w = await self._features(session, ctx, q, q.res or DEFAULT_RES)
        return Page(feats[q.offset:q.offset + q.limit], len(feats), (w.start, w.end))

    async def item(self, session: AsyncSession, ctx: Context, feature_id: str, q: ItemsQuery
                   ) -> dict[str, Any]:
        _, res = parse_cell(feature_id)
        q.bbox = None
        feats, _ = await self._features(session, ctx, q, res)
        found = next((f for f in feats if f["id"] == feature_id), None)
        if found is None:
            raise NotFound(f"no reporting on cell {feature_id} in this window or before it")
        return found


register(ReportingEffort())
