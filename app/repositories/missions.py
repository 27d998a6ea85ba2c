"""Missions, areas of responsibility and gazetteer places: the only place their SQL is built."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

MISSION_COLUMNS = ("code, name, timezone, countries, profile, ST_AsGeoJSON(area, 7) AS area, "
                   "extract(epoch FROM updated_at)::text AS version")


def _mission(row: Any) -> dict[str, Any]:
    d = dict(row)
    d["area"] = json.loads(d["area"]) if d.get("area") else None
    return d


async def list_missions(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(text(f"SELECT {MISSION_COLUMNS} FROM mission ORDER BY code"))
    return [_mission(r) for r in rows.mappings()]


async def mission_codes(session: AsyncSession) -> list[str]:
    return list((await session.execute(text("SELECT code FROM mission ORDER BY code"))).scalars())


async def get_mission(session: AsyncSession, code: str, *, lock: bool = False
                      ) -> dict[str, Any] | None:
    sql = f"SELECT {MISSION_COLUMNS} FROM mission WHERE code = :code"
    if lock:
        sql += " FOR UPDATE"
    row = (await session.execute(text(sql), {"code": code})).mappings().first()
    return _mission(row) if row else None


async def insert_mission(session: AsyncSession, values: dict[str, Any], actor: str) -> bool:
    """False if the code is taken."""
    res = await session.execute(text(
        "INSERT INTO mission (code, name, area, countries, timezone, profile, created_by) "
        "VALUES (:code, :name, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(:area), 4326)), "
        ":countries, :timezone, CAST(:profile AS jsonb), :actor) "
        "ON CONFLICT (code) DO NOTHING"),
        {**values, "area": json.dumps(values["area"]), "profile": json.dumps(values["profile"]),
         "actor": actor})
    return bool(res.rowcount)  # type: ignore[attr-defined]


async def update_mission(session: AsyncSession, code: str, values: dict[str, Any]) -> None:
    await session.execute(text(
        "UPDATE mission SET name = :name, timezone = :timezone, countries = :countries, "
        "profile = CAST(:profile AS jsonb), "
        "area = ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(:area), 4326)), "
        "updated_at = clock_timestamp() WHERE code = :code"),
        {**values, "code": code, "area": json.dumps(values["area"]),
         "profile": json.dumps(values["profile"])})


async def aors_outside(session: AsyncSession, code: str, area: dict[str, Any]) -> list[str]:
    """Names of the mission's AORs that a new mission area would no longer contain."""
    rows = await session.execute(text(
        "SELECT name FROM aor WHERE mission_code = :code AND NOT ST_CoveredBy(area, "
        "ST_Buffer(ST_SetSRID(ST_GeomFromGeoJSON(:area), 4326), 1e-9)) ORDER BY name"),
        {"code": code, "area": json.dumps(area)})
    return list(rows.scalars())


# ---- areas of responsibility ------------------------------------------------------------------

AOR_COLUMNS = ("a.id, a.mission_code, a.name, a.kind, a.parent_id, "
               "ST_AsGeoJSON(a.area, 7) AS area")


def _aor(row: Any) -> dict[str, Any]:
    d = dict(row)
    d["area"] = json.loads(d["area"]) if d.get("area") else None
    return d


async def list_aors(session: AsyncSession, code: str | None = None) -> list[dict[str, Any]]:
    sql = f"SELECT {AOR_COLUMNS} FROM aor a"
    params: dict[str, Any] = {}
    if code is not None:
        sql += " WHERE a.mission_code = :code"
        params["code"] = code
    rows = await session.execute(text(sql + " ORDER BY a.mission_code, a.kind, a.name"), params)
    return [_aor(r) for r in rows.mappings()]


async def get_aor(session: AsyncSession, aor_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(text(f"SELECT {AOR_COLUMNS} FROM aor a WHERE a.id = :id"),
                                 {"id": aor_id})).mappings().first()
    return _aor(row) if row else None


async def aor_by_name(session: AsyncSession, code: str, name: str) -> dict[str, Any] | None:
    row = (await session.execute(text(
        f"SELECT {AOR_COLUMNS} FROM aor a WHERE a.mission_code = :code AND lower(a.name) = "
        "lower(:name)"), {"code": code, "name": name})).mappings().first()
    return _aor(row) if row else None


async def upsert_aor(session: AsyncSession, code: str, values: dict[str, Any], actor: str
                     ) -> tuple[uuid.UUID, bool]:
    """Insert or replace (same mission and name) an AOR; returns (id, created)."""
    row = (await session.execute(text(
        "INSERT INTO aor (mission_code, name, kind, parent_id, area, created_by) "
        "VALUES (:code, :name, :kind, :parent_id, "
        "ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(:area), 4326)), :actor) "
        "ON CONFLICT (mission_code, name) DO UPDATE SET kind = EXCLUDED.kind, "
        "parent_id = EXCLUDED.parent_id, area = EXCLUDED.area, updated_at = now() "
        "RETURNING id, (xmax = 0) AS created"),
        {**values, "code": code, "area": json.dumps(values["area"]), "actor": actor})).one()
    return row[0], bool(row[1])


async def aor_bases(session: AsyncSession, aor_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Each AOR's bases: those of its mission (or unassigned) located inside it."""
    if not aor_ids:
        return {}
    rows = await session.execute(text(
        "SELECT a.id AS aor_id, b.id, b.name, b.kind, b.opened_on, b.closed_on FROM aor a "
        "JOIN mission_base b ON ST_Intersects(a.area, b.location) "
        "AND (b.mission_code IS NULL OR b.mission_code = a.mission_code) "
        "WHERE a.id = ANY(:ids) ORDER BY b.name, b.opened_on"), {"ids": aor_ids})
    out: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in aor_ids}
    for r in rows.mappings():
        d = dict(r)
        out[d.pop("aor_id")].append(d)
    return out


async def aor_at(session: AsyncSession, code: str | None, lon: float, lat: float
                 ) -> list[dict[str, Any]]:
    """The mission's AORs (None: any mission's) containing a point, field offices first (the
    smallest first), then sectors."""
    rows = await session.execute(text(
        "SELECT a.id, a.mission_code, a.name, a.kind, a.parent_id FROM aor a "
        "WHERE (CAST(:code AS text) IS NULL OR a.mission_code = :code) AND ST_Intersects(a.area, "
        "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) "
        "ORDER BY a.kind = 'sector', ST_Area(a.area), a.name"),
        {"code": code, "lon": lon, "lat": lat})
    return [dict(r) for r in rows.mappings()]


async def aor_and_children(session: AsyncSession, aor_id: uuid.UUID) -> list[uuid.UUID]:
    """An AOR and every AOR under it (a sector answers for its offices' areas too, and an AOR
    above sectors for theirs)."""
    rows = await session.execute(text(
        "WITH RECURSIVE sub(id) AS (SELECT id FROM aor WHERE id = :id "
        "UNION SELECT a.id FROM aor a JOIN sub ON a.parent_id = sub.id) "
        "SELECT id FROM sub ORDER BY id"), {"id": aor_id})
    return [r[0] for r in rows]


async def aor_ancestors(session: AsyncSession, aor_ids: list[uuid.UUID]
                        ) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Each AOR's chain of parents, nearest first (a field office: its sector, then the sector's
    parent…), ending where an AOR has no parent; a cycle stops at its first repeat."""
    if not aor_ids:
        return {}
    rows = await session.execute(text(
        "WITH RECURSIVE up(start, id, depth, seen) AS ("
        "  SELECT a.id, a.parent_id, 1, ARRAY[a.id, a.parent_id] FROM aor a "
        "  WHERE a.id = ANY(:ids) AND a.parent_id IS NOT NULL "
        "  UNION ALL SELECT up.start, p.parent_id, up.depth + 1, up.seen || p.parent_id FROM up "
        "  JOIN aor p ON p.id = up.id WHERE p.parent_id IS NOT NULL "
        "  AND NOT p.parent_id = ANY(up.seen) AND up.depth < 32) "
        "SELECT up.start, a.id, a.name, a.kind, a.mission_code FROM up JOIN aor a ON a.id = up.id "
        "ORDER BY up.start, up.depth"), {"ids": list(aor_ids)})
    out: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in aor_ids}
    for r in rows.mappings():
        d = dict(r)
        out[d.pop("start")].append(d)
    return out


# ---- gazetteer places ---------------------------------------------------------------------------

async def places(session: AsyncSession, codes: list[str | None]) -> list[dict[str, Any]]:
    """Places of these missions (None: places shared by every mission)."""
    named = [c for c in codes if c is not None]
    rows = await session.execute(text(
        "SELECT mission_code, name, latitude, longitude, precision, source, events FROM place "
        "WHERE mission_code = ANY(:codes) OR (:shared AND mission_code IS NULL)"),
        {"codes": named, "shared": None in codes})
    return [dict(r) for r in rows.mappings()]


async def places_version(session: AsyncSession) -> tuple[int, int]:
    row = (await session.execute(text(
        "SELECT count(*), coalesce(max(id), 0) FROM place"))).one()
    return int(row[0]), int(row[1])


async def aors_of_bases(session: AsyncSession, base_ids: list[uuid.UUID]
                        ) -> dict[uuid.UUID, dict[str, Any]]:
    """The office each base belongs to: the smallest field office whose area holds it (else the
    sector), among AORs of the base's mission (any mission for a base of none)."""
    if not base_ids:
        return {}
    rows = await session.execute(text(
        "SELECT b.id AS base_id, f.id, f.mission_code, f.name, f.kind FROM mission_base b "
        "CROSS JOIN LATERAL (SELECT a.id, a.mission_code, a.name, a.kind FROM aor a "
        "  WHERE (b.mission_code IS NULL OR a.mission_code = b.mission_code) "
        "  AND ST_Intersects(a.area, b.location) "
        "  ORDER BY a.kind = 'sector', ST_Area(a.area), a.name LIMIT 1) f "
        "WHERE b.id = ANY(:ids)"), {"ids": list(base_ids)})
    out: dict[uuid.UUID, dict[str, Any]] = {}
    for r in rows.mappings():
        d = dict(r)
        out[d.pop("base_id")] = d
    return out
