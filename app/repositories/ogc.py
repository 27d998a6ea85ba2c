"""Queries behind OGC API - Features: collection extents and offset-paged items of the
collections stored as rows (incidents, bases, warnings)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Incident
from app.models.alerts import EarlyWarning
from app.models.bases import MissionBase
from app.repositories.bases import COLUMNS as BASE_COLUMNS
from app.repositories.incidents import INCIDENT_COLUMNS, IncidentFilter
from app.repositories.incidents import _where as incident_where
from app.repositories.warnings import WARNING_COLUMNS, held_by


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


async def latest_incident(session: AsyncSession, statuses: list[str] | None) -> Any:
    """When the newest incident (of these statuses) occurred; None on an empty store."""
    stmt = select(func.max(Incident.occurred_start)).where(Incident.status != "rejected")
    if statuses:
        stmt = stmt.where(Incident.status.in_(statuses))
    return (await session.execute(stmt)).scalar_one()


# --- bases ------------------------------------------------------------------------------------

def _active_between(start: date | None, end: date | None) -> list[Any]:
    """Bases active at some time in [start, end] (a day when start == end)."""
    conds: list[Any] = []
    if end is not None:
        conds.append(MissionBase.opened_on <= end)
    if start is not None:
        conds.append(or_(MissionBase.closed_on.is_(None), MissionBase.closed_on >= start))
    return conds


async def base_extent(session: AsyncSession) -> dict[str, Any]:
    loc = MissionBase.location
    stmt = select(func.ST_XMin(func.ST_Extent(loc)).label("x1"),
                  func.ST_YMin(func.ST_Extent(loc)).label("y1"),
                  func.ST_XMax(func.ST_Extent(loc)).label("x2"),
                  func.ST_YMax(func.ST_Extent(loc)).label("y2"),
                  func.min(MissionBase.opened_on).label("t1"),
                  func.max(MissionBase.closed_on).label("t2"),
                  func.bool_or(MissionBase.closed_on.is_(None)).label("any_open"))
    return dict((await session.execute(stmt)).mappings().one())


async def base_items(session: AsyncSession, *, start: date | None, end: date | None,
                     bbox: tuple[float, float, float, float] | None, limit: int, offset: int
                     ) -> tuple[list[dict[str, Any]], int]:
    conds = _active_between(start, end)
    if bbox is not None:
        conds.append(MissionBase.location.op("&&")(func.ST_MakeEnvelope(*bbox, 4326)))
    where = and_(true(), *conds)
    stmt = (select(*BASE_COLUMNS).where(where).order_by(MissionBase.name, MissionBase.id)
            .limit(limit).offset(offset))
    rows = [dict(r) for r in (await session.execute(stmt)).mappings()]
    matched = (await session.execute(select(func.count()).select_from(MissionBase).where(where)
                                     )).scalar_one()
    return rows, int(matched)


# --- warnings ---------------------------------------------------------------------------------

async def warning_extent(session: AsyncSession) -> dict[str, Any]:
    area = EarlyWarning.area
    stmt = select(func.ST_XMin(func.ST_Extent(area)).label("x1"),
                  func.ST_YMin(func.ST_Extent(area)).label("y1"),
                  func.ST_XMax(func.ST_Extent(area)).label("x2"),
                  func.ST_YMax(func.ST_Extent(area)).label("y2"),
                  func.min(EarlyWarning.created_at).label("t1"),
                  func.max(EarlyWarning.created_at).label("t2"))
    return dict((await session.execute(stmt)).mappings().one())


def _warning_where(start: datetime | None, end: datetime | None,
                   bbox: tuple[float, float, float, float] | None,
                   owner_aors: list[Any] | None = None) -> Any:
    conds: list[Any] = []
    if owner_aors is not None:  # need to know: the warnings these AORs own or were escalated
        conds.append(held_by(list(owner_aors)))
    if start is not None:
        conds.append(EarlyWarning.created_at >= start)
    if end is not None:
        conds.append(EarlyWarning.created_at <= end)
    if bbox is not None:
        conds.append(EarlyWarning.area.op("&&")(func.ST_MakeEnvelope(*bbox, 4326)))
    return and_(true(), *conds)


async def warning_items(session: AsyncSession, *, start: datetime | None, end: datetime | None,
                        bbox: tuple[float, float, float, float] | None, limit: int, offset: int,
                        owner_aors: list[Any] | None = None) -> tuple[list[dict[str, Any]], int]:
    """A stable page of warnings, newest first (id as tie-break); `owner_aors`: only theirs."""
    where = _warning_where(start, end, bbox, owner_aors)
    stmt = (select(*WARNING_COLUMNS).where(where)
            .order_by(EarlyWarning.created_at.desc(), EarlyWarning.id.desc())
            .limit(limit).offset(offset))
    rows = []
    for r in (await session.execute(stmt)).mappings():
        d = dict(r)
        d["geometry"] = orjson.loads(d.pop("geometry_json"))
        rows.append(d)
    matched = (await session.execute(select(func.count()).select_from(EarlyWarning).where(where)
                                     )).scalar_one()
    return rows, int(matched)
