"""Incident events for forecasting: one row per usable incident, its H3 cell at a coarser
resolution derived in SQL by bit arithmetic (see app.services.geo.h3cells.parent_int)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories.sql_fragments import h3_parent

_EVENTS = text(f"""
SELECT occurred_start AS occurred,
       {h3_parent('h3_cell', ':res')} AS cell,
       fatalities_best + injured + crsv_survivors AS harm,
       category, perpetrator_type, status, quality_grade, location_radius_m
FROM incident
WHERE status <> 'rejected'
  AND location_radius_m <= :max_radius
  AND (CAST(:before AS timestamptz) IS NULL OR occurred_start < CAST(:before AS timestamptz))
  AND (CAST(:statuses AS text[]) IS NULL OR status = ANY(CAST(:statuses AS text[])))
ORDER BY occurred_start, id
""")

_SPAN = text("""
SELECT min(occurred_start), max(occurred_start),
       count(*) FILTER (WHERE location_radius_m > :max_radius)
FROM incident WHERE status <> 'rejected'
""")


async def events(
    session: AsyncSession,
    res: int,
    *,
    max_radius_m: int,
    before: datetime | None = None,
    statuses: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Incidents usable for forecasting, oldest first. `before` is exclusive: nothing at or after
    it is read, so a forecast made as of that instant cannot see later incidents."""
    rows = await session.execute(
        _EVENTS, {"res": res, "max_radius": max_radius_m, "before": before, "statuses": statuses}
    )
    return [dict(r) for r in rows.mappings()]


async def span(
    session: AsyncSession, max_radius_m: int
) -> tuple[datetime | None, datetime | None, int]:
    """First and last incident time (any location precision) and how many are too coarse to use."""
    row = (await session.execute(_SPAN, {"max_radius": max_radius_m})).one()
    return row[0], row[1], int(row[2] or 0)


async def fingerprint(session: AsyncSession) -> tuple[int, str]:
    """Changes whenever an incident is added, edited or removed (cache key for backtests)."""
    row = (
        await session.execute(
            text(
                "SELECT count(*), coalesce(max(updated_at)::text, '') || '/' || "
                "coalesce(sum(hashtext(id::text || updated_at::text))::text, '') FROM incident"
            )
        )
    ).one()
    return int(row[0]), str(row[1])
