"""The `forecast` collection: expected incidents per H3 cell for the weeks after an origin."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, time, timedelta
from typing import Any

import h3
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role
from app.errors import Forbidden, NotFound
from app.repositories import hotspots as hotspot_repo
from app.repositories import ogc as repo
from app.services import forecast as forecast_svc
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

DEFAULT_RES = 6
_CACHE: OrderedDict[tuple[Any, ...], list[dict[str, Any]]] = OrderedDict()
_CACHE_ENTRIES = 16


def _feature(c: dict[str, Any], origin: datetime, horizon: int) -> dict[str, Any]:
    props = {**c, "origin": origin.isoformat(),
             "until": (origin + timedelta(days=horizon)).isoformat(), "horizon_days": horizon}
    return {"type": "Feature", "id": c["cell"], "geometry": cell_polygon(c["cell"]),
            "properties": props}


class Forecast(Collection):
    id = "forecast"
    title = "Threat forecast"
    description = (
        "Expected incidents, expected harm and P(at least one) per H3 cell (query `res` 4-9, "
        f"default {DEFAULT_RES}; `horizon_days`, default the 4-week horizon) from an origin, most "
        "likely cells first. Without `datetime` the origin is the day after the newest incident "
        "(or now, if sooner); an instant is the origin; an interval a/b is the origin a and the "
        "horizon b - a.")
    geometry_type = "Polygon"
    parameters = ("res", "horizon_days")
    properties = {
        "cell": STR, "resolution": INT, "expected_incidents": NUM, "expected_harm": NUM,
        "p_incident": NUM, "method": STR, "origin": {**STR, "format": "date-time"},
        "until": {**STR, "format": "date-time"}, "horizon_days": INT,
    }

    def _horizon(self, ctx: Context, q: ItemsQuery) -> int:
        return q.horizon_days or ctx.settings.forecast_horizon_days.get("4weeks", 28)

    async def _origin(self, session: AsyncSession, ctx: Context) -> datetime:
        latest = await repo.latest_incident(session, ctx.statuses())
        if latest is None or latest >= ctx.now:  # a stored date past now (clamped on read) too
            return ctx.now
        day_after = datetime.combine(latest.date() + timedelta(days=1), time.min,
                                     tzinfo=latest.tzinfo)
        return min(day_after, ctx.now)

    async def default_window(self, session: AsyncSession, ctx: Context
                             ) -> tuple[datetime | None, datetime | None]:
        origin = await self._origin(session, ctx)
        return origin, origin + timedelta(days=ctx.settings.forecast_horizon_days.get("4weeks", 28))

    async def extent(self, session: AsyncSession, ctx: Context) -> Extent:
        e = await repo.incident_extent(session, ctx.statuses())
        start, end = await self.default_window(session, ctx)
        return Extent(bbox_of(e), start, end)

    async def _cells(self, session: AsyncSession, ctx: Context, q: ItemsQuery, res: int
                     ) -> tuple[list[dict[str, Any]], datetime, int]:
        if ctx.role == Role.partner and res > ctx.settings.forecast_partner_max_res:
            raise Forbidden(
                f"partners see forecasts at res {ctx.settings.forecast_partner_max_res} or coarser",
                errors=[{"pointer": "/query/res",
                         "detail": f"at most {ctx.settings.forecast_partner_max_res}"}])
        horizon = self._horizon(ctx, q)
        if not q.has_datetime:
            origin = await self._origin(session, ctx)
        else:
            end = q.end if q.end is not None else ctx.now
            origin = q.start if q.start is not None else end - timedelta(days=horizon)
            if q.start is not None and q.end is not None and q.end - q.start >= timedelta(days=1):
                horizon = max(1, round((q.end - q.start).total_seconds() / 86400))
        version = await hotspot_repo.data_version(session)
        key = (version, res, origin, horizon, ctx.approved_only,
               ctx.settings.forecast_default_method, ctx.settings.model_dump_json())
        cells = _CACHE.get(key) if version is not None else None
        if cells is None:
            try:
                cells = await forecast_svc.forecast_layer(
                    session, res, origin, horizon, ctx.settings, approved_only=ctx.approved_only)
            except (forecast_svc.NoData, forecast_svc.BeforeHistory):
                cells = []  # nothing to forecast from: an empty collection, not an error
            cells = cells[:ctx.settings.forecast_layer_limit]
            if version is not None:
                _CACHE[key] = cells
                while len(_CACHE) > _CACHE_ENTRIES:
                    _CACHE.popitem(last=False)
        if q.bbox is not None:
            x1, y1, x2, y2 = q.bbox
            cells = [c for c in cells
                     if x1 <= h3.cell_to_latlng(c["cell"])[1] <= x2
                     and y1 <= h3.cell_to_latlng(c["cell"])[0] <= y2]
        return cells, origin, horizon

    async def items(self, session: AsyncSession, ctx: Context, q: ItemsQuery) -> Page:
        cells, origin, horizon = await self._cells(session, ctx, q, q.res or DEFAULT_RES)
        page = cells[q.offset:q.offset + q.limit]
        return Page([_feature(c, origin, horizon) for c in page], len(cells),
                    (origin, origin + timedelta(days=horizon)))

    async def item(self, session: AsyncSession, ctx: Context, feature_id: str, q: ItemsQuery
                   ) -> dict[str, Any]:
        from app.services.threat.layer import parse_cell

        _, res = parse_cell(feature_id)
        q.bbox = None
        cells, origin, horizon = await self._cells(session, ctx, q, res)
        found = next((c for c in cells if c["cell"] == feature_id), None)
        if found is None:
            raise NotFound(f"no forecast for cell {feature_id} from this origin")
        return _feature(found, origin, horizon)


register(Forecast())
