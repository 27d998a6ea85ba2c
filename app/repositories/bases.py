"""Mission bases: the only place base SQL is built."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import psycopg
from sqlalchemy import and_, delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.bases import MissionBase

COLUMNS = [
    *(c for c in MissionBase.__table__.columns if c.name != "location"),
    func.ST_X(MissionBase.location).label("longitude"),
    func.ST_Y(MissionBase.location).label("latitude"),
]
SORT_KEYS = {"name": MissionBase.name, "opened_on": MissionBase.opened_on,
             "kind": MissionBase.kind}


def _point(lon: float, lat: float) -> Any:
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)


def _inside(area: dict[str, Any]) -> Any:
    return func.ST_Intersects(func.ST_SetSRID(func.ST_GeomFromGeoJSON(json.dumps(area)), 4326),
                              MissionBase.location)


def _active_on(on: date) -> Any:
    return and_(MissionBase.opened_on <= on,
                or_(MissionBase.closed_on.is_(None), MissionBase.closed_on >= on))


async def insert_base(session: AsyncSession, values: dict[str, Any], lon: float, lat: float
                      ) -> uuid.UUID:
    stmt = insert(MissionBase).values(**values, location=_point(lon, lat)).returning(MissionBase.id)
    return (await session.execute(stmt)).scalar_one()


async def get(session: AsyncSession, base_id: uuid.UUID, *, lock: bool = False
              ) -> dict[str, Any] | None:
    stmt = select(*COLUMNS).where(MissionBase.id == base_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def list_bases(session: AsyncSession, *, as_of: date | None = None,
                     kinds: list[str] | None = None,
                     bbox: tuple[float, float, float, float] | None = None,
                     ids: list[uuid.UUID] | None = None, sort: str = "name",
                     limit: int | None = None, mission: str | None = None,
                     area: dict[str, Any] | None = None,
                     within: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """`mission`: its own bases, and bases of no mission inside `area` (its area of operations);
    `within`: only bases inside this area (an area of responsibility)."""
    stmt = select(*COLUMNS)
    if mission is not None:
        own = MissionBase.mission_code == mission
        if area is not None:
            own = or_(own, and_(MissionBase.mission_code.is_(None), _inside(area)))
        stmt = stmt.where(own)
    if within is not None:
        stmt = stmt.where(_inside(within))
    if as_of is not None:
        stmt = stmt.where(_active_on(as_of))
    if kinds:
        stmt = stmt.where(MissionBase.kind.in_(kinds))
    if bbox is not None:
        stmt = stmt.where(MissionBase.location.op("&&")(func.ST_MakeEnvelope(*bbox, 4326)))
    if ids is not None:
        stmt = stmt.where(MissionBase.id.in_(ids))
    stmt = stmt.order_by(SORT_KEYS[sort], MissionBase.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def existing_ids(session: AsyncSession, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    stmt = select(MissionBase.id).where(MissionBase.id.in_(ids))
    return set((await session.execute(stmt)).scalars())


async def update_base(session: AsyncSession, base_id: uuid.UUID, values: dict[str, Any],
                      lonlat: tuple[float, float] | None = None) -> None:
    vals = dict(values)
    if lonlat is not None:
        vals["location"] = _point(*lonlat)
    vals["updated_at"] = func.now()
    await session.execute(update(MissionBase).where(MissionBase.id == base_id).values(**vals))


async def delete_base(session: AsyncSession, base_id: uuid.UUID) -> None:
    await session.execute(delete(MissionBase).where(MissionBase.id == base_id))


IMPORT_SQL = """
INSERT INTO mission_base (name, kind, location, opened_on, closed_on, troops,
    road_patrols_per_day, foot_patrols_per_day, air_patrols_per_day, qrf_standby, notes,
    external_source, external_id, created_by, updated_by, mission_code)
VALUES (%(name)s, %(kind)s, ST_SetSRID(ST_MakePoint(%(longitude)s, %(latitude)s), 4326),
    %(opened_on)s, %(closed_on)s, %(troops)s, %(road_patrols_per_day)s,
    %(foot_patrols_per_day)s, %(air_patrols_per_day)s, %(qrf_standby)s, %(notes)s,
    %(external_source)s, %(external_id)s, %(actor)s, %(actor)s, %(mission_code)s)
ON CONFLICT (external_source, external_id) DO NOTHING
"""


def import_rows(conn: psycopg.Connection[Any], rows: list[dict[str, Any]], actor: str) -> int:
    """Insert imported bases; rows already imported (same source id) are left as they are."""
    inserted = 0
    with conn.cursor() as cur:
        for r in rows:
            cur.execute(IMPORT_SQL, {"mission_code": None, **r, "actor": actor})
            inserted += cur.rowcount
    conn.commit()
    return inserted


async def active_with_capacity(session: AsyncSession, on: date) -> list[dict[str, Any]]:
    """Every base active on `on` that can send someone (for callers that place many points)."""
    has_capacity = or_(MissionBase.road_patrols_per_day > 0, MissionBase.foot_patrols_per_day > 0,
                       MissionBase.air_patrols_per_day > 0, MissionBase.qrf_standby > 0)
    stmt = select(*COLUMNS).where(_active_on(on), has_capacity).order_by(MissionBase.id)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def nearest_with_capacity(session: AsyncSession, lon: float, lat: float, on: date,
                                *, limit: int = 8, aor_id: uuid.UUID | None = None
                                ) -> list[dict[str, Any]]:
    """Active bases on `on` that can send someone (patrols per day in some mode, or a quick
    reaction force), nearest first by the index's planar order (callers re-rank by great-circle
    distance: a few candidates are enough for that). `aor_id`: only the bases of that area of
    responsibility (located inside it, of its mission or of none)."""
    has_capacity = or_(MissionBase.road_patrols_per_day > 0, MissionBase.foot_patrols_per_day > 0,
                       MissionBase.air_patrols_per_day > 0, MissionBase.qrf_standby > 0)
    conds = [_active_on(on), has_capacity]
    if aor_id is not None:
        conds.append(text(
            "EXISTS (SELECT 1 FROM aor a WHERE a.id = :aor_id "
            "AND ST_Intersects(a.area, mission_base.location) "
            "AND (mission_base.mission_code IS NULL OR mission_base.mission_code = a.mission_code))"
        ).bindparams(aor_id=aor_id))
    stmt = (select(*COLUMNS).where(*conds)
            .order_by(MissionBase.location.op("<->")(_point(lon, lat)), MissionBase.id)
            .limit(limit))
    return [dict(r) for r in (await session.execute(stmt)).mappings()]
