"""The `bases` collection: mission bases as points, with how far each reaches by mode."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role
from app.errors import NotFound
from app.repositories import bases as base_repo
from app.repositories import ogc as repo
from app.services.bases.registry import shape
from app.services.geo import geojson
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
    feature_uuid,
    register,
)
from app.services.planning.reach import MODES, mode_reach
from app.settings import Settings


def with_reach(row: dict[str, Any], on: date, settings: Settings) -> dict[str, Any]:
    """`reach_<mode>_km`: straight-line reach on that date (the base's overrides and the rainy
    season applied); null for a mode the base has no patrols of."""
    out = dict(row)
    for mode in MODES:
        has = int(row.get(f"{mode}_patrols_per_day") or 0) > 0
        out[f"reach_{mode}_km"] = round(mode_reach(row, mode, on, settings).reach_km, 2) if has \
            else None
    out["reach_on"] = on.isoformat()
    return out


def _feature(row: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in row.items() if k not in ("id", "latitude", "longitude")}
    return geojson.point_feature(str(row["id"]), row["longitude"], row["latitude"], props)


class Bases(Collection):
    id = "bases"
    title = "Mission bases"
    description = (
        "Bases and field offices (points) with their reach by road, on foot and by air on the "
        "window's last day (`reach_<mode>_km`; partners see locations and periods only). Without "
        "`datetime`, the bases active today; an instant gives that day's bases, an interval the "
        "bases active at some time in it.")
    geometry_type = "Point"
    properties = {
        "name": STR, "kind": STR, "opened_on": {**STR, "format": "date"},
        "closed_on": {**STR, "format": "date"}, "troops": INT, "reach_road_km": NUM,
        "reach_foot_km": NUM, "reach_air_km": NUM, "reach_on": {**STR, "format": "date"},
    }

    async def extent(self, session: AsyncSession, ctx: Context) -> Extent:
        e = await repo.base_extent(session)
        t1 = datetime.combine(e["t1"], datetime.min.time()) if e["t1"] else None
        t2 = (None if e["any_open"] or e["t2"] is None
              else datetime.combine(e["t2"], datetime.max.time()))
        return Extent(bbox_of(e), t1, t2)

    async def default_window(self, session: AsyncSession, ctx: Context
                             ) -> tuple[datetime | None, datetime | None]:
        return ctx.now, ctx.now

    def _shape(self, row: dict[str, Any], ctx: Context, on: date) -> dict[str, Any]:
        if ctx.role == Role.partner:
            return shape(row, ctx.role)
        return with_reach(shape(row, ctx.role), on, ctx.settings)

    async def items(self, session: AsyncSession, ctx: Context, q: ItemsQuery) -> Page:
        start, end = await self.window(session, ctx, q)
        rows, matched = await repo.base_items(
            session, start=start.date() if start else None, end=end.date() if end else None,
            bbox=q.bbox, limit=q.limit, offset=q.offset)
        on = (end or ctx.now).date()
        return Page([_feature(self._shape(r, ctx, on)) for r in rows], matched, (start, end))

    async def item(self, session: AsyncSession, ctx: Context, feature_id: str, q: ItemsQuery
                   ) -> dict[str, Any]:
        ident = feature_uuid(feature_id, "base")
        row = await base_repo.get(session, ident)
        if row is None:
            raise NotFound(f"no base {feature_id}")
        _, end = await self.window(session, ctx, q)
        return _feature(self._shape(row, ctx, (end or ctx.now).date()))


register(Bases())
