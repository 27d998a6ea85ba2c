"""The `warnings` collection: early warnings as polygons (their areas), newest first. Staff only:
partners and integrations do not read warnings."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.repositories import ogc as repo
from app.repositories import warnings as warning_repo
from app.services.ogc.collections import (
    STAFF,
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
from app.services.warnings import need_to_know
from app.services.warnings.lifecycle import present


class Warnings(Collection):
    id = "warnings"
    title = "Early warnings"
    description = ("Warnings raised by the rules (alert clusters, sexual-violence alerts, threat "
                   "levels, emerging patterns) with their areas (polygons), newest first. "
                   "`datetime` filters on when they were raised; without it, every warning.")
    geometry_type = "Polygon"
    readers = STAFF
    properties = {
        "rule": STR, "status": STR, "category": STR, "severity": STR, "urgency": STR, "certainty": STR,
        "headline": STR, "created_at": {**STR, "format": "date-time"},
        "expires_at": {**STR, "format": "date-time"}, "h3_cell": STR,
    }

    async def extent(self, session: AsyncSession, ctx: Context) -> Extent:
        e = await repo.warning_extent(session)
        return Extent(bbox_of(e), e["t1"], e["t2"])

    async def items(self, session: AsyncSession, ctx: Context, q: ItemsQuery) -> Page:
        start, end = await self.window(session, ctx, q)
        rows, matched = await repo.warning_items(
            session, start=start, end=end, bbox=q.bbox, limit=q.limit, offset=q.offset,
            owner_aors=await need_to_know.owner_aors(session, ctx.who))
        return Page([present(w) for w in rows], matched, (start, end))

    async def item(self, session: AsyncSession, ctx: Context, feature_id: str, q: ItemsQuery
                   ) -> dict[str, Any]:
        ident = feature_uuid(feature_id, "warning")
        w = await warning_repo.get(session, ident)
        if w is None:
            raise NotFound(f"no warning {feature_id}")
        await need_to_know.check(session, ctx.who, w)
        return present(w)


register(Warnings())
