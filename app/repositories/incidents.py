"""Incident and report persistence. The only place incident SQL is built."""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Select,
    and_,
    bindparam,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Incident, Report, table

SCALAR_COLUMNS = [c for c in table(Incident).columns if c.name != "location"]
INCIDENT_COLUMNS = [
    *SCALAR_COLUMNS,
    func.ST_X(Incident.location).label("longitude"),
    func.ST_Y(Incident.location).label("latitude"),
]
REPORT_COLUMNS = list(table(Report).columns)


@dataclass
class IncidentFilter:
    bbox: tuple[float, float, float, float] | None = None
    start: datetime | None = None
    end: datetime | None = None
    categories: list[str] | None = None
    perpetrator: str | None = None
    statuses: list[str] | None = None
    grades: list[str] | None = None
    # (resolution, parent cells): only incidents whose parent cell at that resolution is listed
    # (a partner's bbox, applied to whole cells).
    cells: tuple[int, list[int]] | None = None
    area: dict[str, Any] | None = None  # GeoJSON (Multi)Polygon: a mission's area or an AOR


def parent_cell(res: int) -> ColumnElement[int]:
    """The parent at `res` of the stored fine cell, by bit arithmetic (app.services.geo.h3cells)."""
    unused = (1 << (3 * (15 - res))) - 1
    return (Incident.h3_cell.op("&")(~(15 << 52)).op("|")(res << 52)).op("|")(unused)


def point(lon: Any, lat: Any) -> Any:
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)


# The point of a constant statement: its coordinates come as the `lon_` and `lat_` parameters.
POINT_PARAMS = point(bindparam("lon_"), bindparam("lat_"))


def _where(stmt: Select[Any], f: IncidentFilter) -> Select[Any]:
    conds: list[ColumnElement[bool]] = []
    if f.bbox is not None:
        conds.append(Incident.location.op("&&")(func.ST_MakeEnvelope(*f.bbox, 4326)))
    if f.area is not None:
        conds.append(func.ST_Intersects(
            func.ST_SetSRID(func.ST_GeomFromGeoJSON(json.dumps(f.area)), 4326), Incident.location))
    if f.start is not None:
        conds.append(Incident.occurred_start >= f.start)
    if f.end is not None:
        conds.append(Incident.occurred_start <= f.end)
    if f.categories:
        conds.append(Incident.category.in_(f.categories))
    if f.statuses:
        conds.append(Incident.status.in_(f.statuses))
    if f.grades:
        conds.append(Incident.quality_grade.in_(f.grades))
    if f.perpetrator:
        pattern = "%" + f.perpetrator.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # Joined with a separator no name contains, so a match never spans two names.
        conds.append(func.array_to_string(Incident.perpetrators, "\x1f").ilike(pattern))
    if f.cells is not None:
        res, cells = f.cells
        conds.append(parent_cell(res) == func.any(bindparam("cells", cells, type_=ARRAY(BigInteger))))
    return stmt.where(and_(*conds)) if conds else stmt


# Constant statements with the values as parameters (not `.values(**values)` per call): their
# compiled form is cached, which took a fifth of the CPU of triaging an alert.
_INSERT_INCIDENT = (
    insert(table(Incident))
    .values(location=POINT_PARAMS)
    .returning(table(Incident).c.id)
)
_INSERT_REPORT = insert(table(Report))


async def insert_incident(session: AsyncSession, values: dict[str, Any], lon: float, lat: float,
                          report: dict[str, Any]) -> uuid.UUID:
    new_id: uuid.UUID = (await session.execute(
        _INSERT_INCIDENT, {**values, "lon_": lon, "lat_": lat})).scalar_one()
    await session.execute(_INSERT_REPORT, {**report, "incident_id": new_id})
    return new_id


async def get(session: AsyncSession, incident_id: uuid.UUID, *, lock: bool = False
              ) -> dict[str, Any] | None:
    stmt = select(*INCIDENT_COLUMNS).where(Incident.id == incident_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def reports_for(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    out: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return out
    stmt = (select(*REPORT_COLUMNS).where(Report.incident_id.in_(ids))
            .order_by(Report.received_at, Report.id))
    for row in (await session.execute(stmt)).mappings():
        out[row["incident_id"]].append(dict(row))
    return out


async def page(session: AsyncSession, f: IncidentFilter, *, limit: int,
               after: tuple[datetime, uuid.UUID] | None) -> list[dict[str, Any]]:
    stmt = _where(select(*INCIDENT_COLUMNS), f)
    if after is not None:
        stmt = stmt.where(tuple_(Incident.occurred_start, Incident.id) < tuple_(*after))
    stmt = stmt.order_by(Incident.occurred_start.desc(), Incident.id.desc()).limit(limit)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def parent_cells(session: AsyncSession, f: IncidentFilter, res: int, *, margin_m: float
                       ) -> list[int]:
    """The distinct parent cells at `res` of the incidents matching `f` with its bbox widened by
    `margin_m` (every cell with a point in the bbox, and the cells straddling its edges)."""
    assert f.bbox is not None
    x1, y1, x2, y2 = f.bbox
    dy = margin_m / 110_540
    dx = margin_m / (111_320 * max(math.cos(math.radians(max(abs(y1), abs(y2)))), 0.01))
    wide = IncidentFilter(**{**f.__dict__, "bbox": (max(x1 - dx, -180), max(y1 - dy, -90),
                                                     min(x2 + dx, 180), min(y2 + dy, 90))})
    stmt = _where(select(parent_cell(res).label("cell")).distinct(), wide)
    return [int(c) for c in (await session.execute(stmt)).scalars()]


async def count(session: AsyncSession, f: IncidentFilter) -> int:
    stmt = _where(select(func.count()).select_from(Incident), f)
    return int((await session.execute(stmt)).scalar_one())


_UPDATE_INCIDENT = (update(table(Incident)).where(table(Incident).c.id == bindparam("id_"))
                    .values(updated_at=func.now()))
_UPDATE_INCIDENT_AT = _UPDATE_INCIDENT.values(location=POINT_PARAMS)
_ADD_REPORT = insert(table(Report)).returning(table(Report).c.id)


async def update_incident(session: AsyncSession, incident_id: uuid.UUID, values: dict[str, Any],
                          lonlat: tuple[float, float] | None = None) -> None:
    if lonlat is None:
        await session.execute(_UPDATE_INCIDENT, {**values, "id_": incident_id})
    else:
        await session.execute(_UPDATE_INCIDENT_AT,
                              {**values, "id_": incident_id, "lon_": lonlat[0], "lat_": lonlat[1]})


async def add_report(session: AsyncSession, incident_id: uuid.UUID, report: dict[str, Any]) -> uuid.UUID:
    rid: uuid.UUID = (await session.execute(
        _ADD_REPORT, {**report, "incident_id": incident_id})).scalar_one()
    return rid


async def existing_ids(session: AsyncSession, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these incident ids exist (rejected ones included: a link records what was said)."""
    if not ids:
        return set()
    stmt = select(Incident.id).where(Incident.id.in_(ids))
    return set((await session.execute(stmt)).scalars())
