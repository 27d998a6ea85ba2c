"""Information requirements and the reporting that answers them. The only place their SQL is
built. A report answers an IR when its incident lies in the IR's area, has one of its categories
and (if the IR names perpetrators) names one of them; its time is the event's time."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.products import InformationRequirement as IR

COLUMNS = [*(c for c in IR.__table__.columns if c.name != "area"),
           func.ST_AsGeoJSON(IR.area, 6).label("area_json")]


def _row(r: Any) -> dict[str, Any]:
    d = dict(r)
    raw = d.pop("area_json")
    d["area"] = orjson.loads(raw) if raw else None
    return d


async def insert_ir(session: AsyncSession, values: dict[str, Any], area: dict[str, Any] | None
                    ) -> uuid.UUID:
    geom = (func.ST_Multi(func.ST_SetSRID(func.ST_GeomFromGeoJSON(orjson.dumps(area).decode()),
                                          4326)) if area is not None else None)
    return (await session.execute(insert(IR).values(**values, area=geom).returning(IR.id))
            ).scalar_one()


async def get(session: AsyncSession, ir_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(*COLUMNS).where(IR.id == ir_id))).mappings().first()
    return _row(row) if row else None


async def code_exists(session: AsyncSession, code: str) -> bool:
    return (await session.execute(select(IR.id).where(IR.code == code))).first() is not None


async def listing(session: AsyncSession, *, active_only: bool = True, crsv: bool | None = None,
                  mission: str | None = None) -> list[dict[str, Any]]:
    stmt = select(*COLUMNS)
    if active_only:
        stmt = stmt.where(IR.active.is_(True))
    if crsv is not None:
        stmt = stmt.where(IR.crsv.is_(crsv))
    if mission is not None:
        stmt = stmt.where(IR.mission == mission)
    stmt = stmt.order_by(IR.crsv.desc(), IR.priority, IR.created_at, IR.id)
    return [_row(r) for r in (await session.execute(stmt)).mappings()]


_MATCH = """
FROM information_requirement ir
JOIN incident i ON ir.area IS NOT NULL AND ST_Intersects(i.location, ir.area)
               AND i.category = ANY(ir.categories)
               AND i.status IN ('entered', 'validated', 'approved')
               AND (cardinality(ir.perpetrators) = 0 OR EXISTS (
                    SELECT FROM unnest(i.perpetrators) p(name), unnest(ir.perpetrators) q(name)
                    WHERE p.name ILIKE '%' || q.name || '%'))
JOIN report r ON r.incident_id = i.id
WHERE ir.id = ANY(:ids)"""

PERIODS_SQL = text(f"""
SELECT ir.id,
       floor(date_part('epoch', CAST(:until AS timestamptz) - i.occurred_start)
             / (86400.0 * ir.frequency_days))::int AS periods_ago,
       r.section, count(*) AS reports, count(DISTINCT i.id) AS incidents
{_MATCH}
  AND i.occurred_start <= :until
  AND i.occurred_start > CAST(:until AS timestamptz)
                         - make_interval(days => ir.frequency_days * CAST(:periods AS int))
GROUP BY 1, 2, 3""")

LAST_SQL = text(f"""
SELECT ir.id, max(i.occurred_start) AS last_report
{_MATCH} AND i.occurred_start <= :until
GROUP BY 1""")


async def reporting(session: AsyncSession, ids: list[uuid.UUID], *, until: datetime,
                    periods: int) -> tuple[list[dict[str, Any]], dict[uuid.UUID, datetime]]:
    """Per IR: (period index back from `until`, section) report counts over the last `periods`
    periods of the IR's frequency; and the time of each IR's last matching report."""
    if not ids:
        return [], {}
    params = {"ids": ids, "until": until, "periods": periods}
    rows = [dict(r) for r in (await session.execute(PERIODS_SQL, params)).mappings()]
    last = {r[0]: r[1] for r in (await session.execute(LAST_SQL, params)).all()}
    return rows, last
