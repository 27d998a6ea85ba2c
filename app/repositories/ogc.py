"""Queries behind OGC API - Features: collection extents and offset-paged incident items."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Incident
from app.repositories.incidents import INCIDENT_COLUMNS, IncidentFilter
from app.repositories.incidents import _where as incident_where


async def incident_extent(session: AsyncSession, statuses: list[str] | None
                          ) -> dict[str, Any]:
    stmt = select(func.ST_XMin(func.ST_Extent(Incident.location)).label("x1"),
                  func.ST_YMin(func.ST_Extent(Incident.location)).label("y1"),
                  func.ST_XMax(func.ST_Extent(Incident.location)).label("x2"),
                  func.ST_YMax(func.ST_Extent(Incident.location)).label("y2"),
                  func.min(Incident.occurred_start).label("t1"),
                  func.max(Incident.occurred_start).label("t2"))
    if statuses:
        stmt = stmt.where(Incident.status.in_(statuses))
    return dict((await session.execute(stmt)).mappings().one())


async def incident_items(session: AsyncSession, f: IncidentFilter, *, limit: int, offset: int
                         ) -> list[dict[str, Any]]:
    """A stable page (newest first, id as tie-break) so walking `next` sees each row once."""
    stmt = incident_where(select(*INCIDENT_COLUMNS), f)
    stmt = (stmt.order_by(Incident.occurred_start.desc(), Incident.id.desc())
            .limit(limit).offset(offset))
    return [dict(r) for r in (await session.execute(stmt)).mappings()]
