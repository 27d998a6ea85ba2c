"""Figures behind generated briefs, and the brief records. The only place their SQL is built.
Every query takes an optional area (GeoJSON, the brief's mission or AOR) and a window."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.products import Brief

AREA = ("(CAST(:area AS text) IS NULL OR "
        "ST_Intersects(i.location, ST_SetSRID(ST_GeomFromGeoJSON(CAST(:area AS text)), 4326)))")
STATUSES = "i.status = ANY(:statuses)"


def _area(area: dict[str, Any] | None) -> str | None:
    return orjson.dumps(area).decode() if area is not None else None


async def incident_breakdown(session: AsyncSession, *, start: datetime, end: datetime,
                             statuses: list[str], area: dict[str, Any] | None
                             ) -> dict[str, Any]:
    """Counts in [start, end): total, harm, by category, by status, by perpetrator name."""
    p = {"start": start, "end": end, "statuses": statuses, "area": _area(area)}
    where = f"i.occurred_start >= :start AND i.occurred_start < :end AND {STATUSES} AND {AREA}"
    totals = (await session.execute(text(
        f"SELECT count(*) AS incidents, coalesce(sum(i.fatalities_best), 0) AS fatalities, "
        f"coalesce(sum(i.crsv_survivors), 0) AS crsv_survivors, "
        f"coalesce(sum(i.displaced), 0) AS displaced FROM incident i WHERE {where}"), p)
              ).mappings().one()
    cats = await session.execute(text(
        f"SELECT i.category, count(*) AS n, coalesce(sum(i.fatalities_best), 0) AS fatalities "
        f"FROM incident i WHERE {where} GROUP BY 1 ORDER BY 2 DESC, 1"), p)
    stats = await session.execute(text(
        f"SELECT i.status, count(*) AS n FROM incident i WHERE {where} GROUP BY 1 ORDER BY 1"), p)
    perps = await session.execute(text(
        f"SELECT x.name, count(*) AS n FROM incident i, unnest(i.perpetrators) AS x(name) "
        f"WHERE {where} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10"), p)
    return {"totals": {k: int(v) for k, v in totals.items()},
            "categories": {r[0]: {"incidents": int(r[1]), "fatalities": int(r[2])}
                           for r in cats.all()},
            "statuses": {r[0]: int(r[1]) for r in stats.all()},
            "perpetrators": {r[0]: int(r[1]) for r in perps.all()}}


async def incident_ids(session: AsyncSession, *, start: datetime, end: datetime,
                       statuses: list[str], area: dict[str, Any] | None,
                       category: str | None = None, limit: int = 20) -> list[str]:
    """The records behind a statement (most harmful first)."""
    p = {"start": start, "end": end, "statuses": statuses, "area": _area(area),
         "category": category, "limit": limit}
    rows = await session.execute(text(
        f"SELECT i.id FROM incident i WHERE i.occurred_start >= :start AND i.occurred_start < :end "
        f"AND {STATUSES} AND {AREA} AND (CAST(:category AS text) IS NULL OR i.category = :category)"
        " ORDER BY i.fatalities_best DESC, i.occurred_start DESC, i.id LIMIT :limit"), p)
    return [str(r[0]) for r in rows]


async def series(session: AsyncSession, *, start: datetime, end: datetime, step_days: int,
                 statuses: list[str], area: dict[str, Any] | None) -> list[int]:
    """Incidents per step of `step_days` from start (the last step ends at `end`)."""
    p = {"start": start, "end": end, "statuses": statuses, "area": _area(area),
         "step": step_days}
    rows = await session.execute(text(
        f"SELECT floor(date_part('epoch', i.occurred_start - CAST(:start AS timestamptz)) "
        f"/ (86400.0 * :step))::int AS k, count(*) FROM incident i "
        f"WHERE i.occurred_start >= :start AND i.occurred_start < :end AND {STATUSES} AND {AREA} "
        f"GROUP BY 1"), p)
    n = max(1, round((end - start).total_seconds() / 86400 / step_days))
    out = [0] * n
    for k, c in rows.all():
        if 0 <= k < n:
            out[k] += int(c)
    return out


async def workflow_moves(session: AsyncSession, *, start: datetime, end: datetime
                         ) -> dict[str, int]:
    """Incidents validated, approved or rejected during the period (the audit trail)."""
    rows = await session.execute(text(
        "SELECT action, count(*) FROM audit_event WHERE object_type = 'incident' "
        "AND action IN ('validated', 'approved', 'rejected') AND at >= :start AND at < :end "
        "GROUP BY 1"), {"start": start, "end": end})
    return {r[0]: int(r[1]) for r in rows.all()}


async def warnings_raised(session: AsyncSession, *, start: datetime, end: datetime,
                          area: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Warnings raised in [start, end) with their first response steps and outcomes."""
    area_cond = ("(CAST(:area AS text) IS NULL OR ST_Intersects(w.area, "
                 "ST_SetSRID(ST_GeomFromGeoJSON(CAST(:area AS text)), 4326)))")
    rows = await session.execute(text(f"""
SELECT w.id, w.rule, w.status, w.severity, w.category, w.headline, w.created_at, w.expires_at,
       w.closed_at, ST_AsGeoJSON(ST_Centroid(w.area), 6) AS centre,
       least(w.acknowledged_at, min(r.acknowledged_at)) AS acknowledged_at,
       min(r.dispatched_at) AS dispatched_at, min(r.on_scene_at) AS on_scene_at,
       coalesce(bool_or(r.type <> 'none'), false) AS responded,
       array_remove(array_agg(DISTINCT r.type), NULL) AS response_types,
       array_remove(array_agg(coalesce(r.outcome_note, replace(r.outcome, '_', ' '))
                              ORDER BY r.created_at), NULL) AS outcomes,
       w.acknowledge_by, w.on_scene_by, w.assigned_to, w.escalation_level,
       array_remove(array_agg(DISTINCT d.reason), NULL) AS delay_reasons
FROM warning w
LEFT JOIN warning_response r ON r.warning_id = w.id
LEFT JOIN LATERAL unnest(r.delay_reasons) AS d(reason) ON true
WHERE w.created_at >= :start AND w.created_at < :end AND w.status <> 'cancelled' AND {area_cond}
GROUP BY w.id ORDER BY w.created_at, w.id"""), {"start": start, "end": end, "area": _area(area)})
    out = []
    for r in rows.mappings():
        d = dict(r)
        d["centre"] = orjson.loads(d["centre"]) if d["centre"] else None
        out.append(d)
    return out


# --- records ----------------------------------------------------------------------------------

async def insert_brief(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID | None:
    """Keep a brief; a scheduled one already kept for the same period, day, scope and edition is
    left as it is (None)."""
    if values.get("scheduled"):
        stmt = pg_insert(Brief).values(**values).on_conflict_do_nothing(
            index_elements=["period", "as_of", text("coalesce(mission, '')"),
                            text("coalesce(aor, '')"), "edition"],
            index_where=text("scheduled")).returning(Brief.id)
    else:
        stmt = insert(Brief).values(**values).returning(Brief.id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_brief(session: AsyncSession, brief_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(*Brief.__table__.columns).where(Brief.id == brief_id))
           ).mappings().first()
    return dict(row) if row else None


async def list_briefs(session: AsyncSession, *, editions: list[str], period: str | None,
                      mission: str | None, limit: int) -> list[dict[str, Any]]:
    cols = [c for c in Brief.__table__.columns if c.name != "content"]
    stmt = select(*cols).where(Brief.edition.in_(editions))
    if period is not None:
        stmt = stmt.where(Brief.period == period)
    if mission is not None:
        stmt = stmt.where(Brief.mission == mission)
    stmt = stmt.order_by(Brief.as_of.desc(), Brief.generated_at.desc()).limit(limit)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def scheduled_exists(session: AsyncSession, *, period: str, as_of: date,
                           mission: str | None, aor: str | None, edition: str) -> bool:
    stmt = select(Brief.id).where(Brief.scheduled.is_(True), Brief.period == period,
                                  Brief.as_of == as_of, Brief.edition == edition)
    stmt = stmt.where(Brief.mission.is_(None) if mission is None else Brief.mission == mission)
    stmt = stmt.where(Brief.aor.is_(None) if aor is None else Brief.aor == aor)
    return (await session.execute(stmt)).first() is not None
