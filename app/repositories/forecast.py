"""Incident events for forecasting: one row per usable incident, its H3 cell at a coarser
resolution derived in SQL by bit arithmetic (see app.services.geo.h3cells.parent_int)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories.sql_fragments import h3_parent, valid_cell

VALID_CELL = valid_cell("h3_cell", ":res")

_EVENTS = text(f"""
SELECT occurred_start AS occurred,
       {h3_parent('h3_cell', ':res')} AS cell,
       CAST(fatalities_best AS bigint) + injured + crsv_survivors AS harm,
       category, perpetrator_type, status, quality_grade, location_radius_m
FROM incident i
WHERE status IN ('entered', 'validated', 'approved')  -- counted (docs/triangulation.md)
  AND {VALID_CELL}
  AND location_radius_m <= :max_radius
  AND (CAST(:before AS timestamptz) IS NULL OR occurred_start < CAST(:before AS timestamptz))
  AND (CAST(:statuses AS text[]) IS NULL OR status = ANY(CAST(:statuses AS text[])))
  AND (CAST(:x1 AS float8) IS NULL OR location && ST_MakeEnvelope(
        CAST(:x1 AS float8), CAST(:y1 AS float8), CAST(:x2 AS float8), CAST(:y2 AS float8), 4326))
ORDER BY occurred_start, id
""")

_SPAN = text("""
SELECT min(occurred_start), max(occurred_start),
       count(*) FILTER (WHERE location_radius_m > :max_radius)
FROM incident WHERE status IN ('entered', 'validated', 'approved')
""")


async def events(
    session: AsyncSession,
    res: int,
    *,
    max_radius_m: int,
    before: datetime | None = None,
    statuses: list[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> list[dict[str, Any]]:
    """Incidents usable for forecasting, oldest first. `before` is exclusive: nothing at or after
    it is read, so a forecast made as of that instant cannot see later incidents. `bbox`
    (lon/lat) keeps the incidents located inside it."""
    x1, y1, x2, y2 = bbox if bbox is not None else (None, None, None, None)
    rows = await session.execute(
        _EVENTS,
        {"res": res, "max_radius": max_radius_m, "before": before, "statuses": statuses,
         "x1": x1, "y1": y1, "x2": x2, "y2": y2},
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


_SAVE_CARD = text("""
INSERT INTO forecast_model_card (area, res, horizon, horizon_days, data_version, card)
VALUES (:area, :res, :horizon, :horizon_days, :data_version, CAST(:card AS jsonb))
ON CONFLICT (area, res, horizon) DO UPDATE SET
    horizon_days = EXCLUDED.horizon_days, data_version = EXCLUDED.data_version,
    card = EXCLUDED.card, created_at = now()
""")


async def save_card(
    session: AsyncSession, area: str, res: int, horizon: str, horizon_days: int,
    data_version: int | None, card_json: str,
) -> None:
    await session.execute(
        _SAVE_CARD,
        {"area": area, "res": res, "horizon": horizon, "horizon_days": horizon_days,
         "data_version": data_version, "card": card_json},
    )


async def cards(session: AsyncSession, area: str, res: int) -> list[dict[str, Any]]:
    """The area's model cards at this resolution (one per horizon)."""
    rows = await session.execute(
        text(
            "SELECT horizon, horizon_days, data_version, created_at, card "
            "FROM forecast_model_card WHERE area = :area AND res = :res ORDER BY horizon_days"
        ),
        {"area": area, "res": res},
    )
    return [dict(r) for r in rows.mappings()]


_MIX = text(f"""
SELECT {h3_parent('h3_cell', ':res')} AS cell, category, count(*) AS n,
       max(occurred_start) AS last
FROM incident i
WHERE status <> 'rejected'
  AND {VALID_CELL}
  AND occurred_start < CAST(:before AS timestamptz)
  AND occurred_start >= CAST(:since AS timestamptz)
  AND location_radius_m <= :max_radius
  AND ({h3_parent('h3_cell', ':res')}) = ANY(CAST(:cells AS bigint[]))
GROUP BY 1, 2
""")


async def category_mix(
    session: AsyncSession, res: int, cells: list[int], *, since: datetime, before: datetime,
    max_radius_m: int,
) -> list[dict[str, Any]]:
    """Incidents per (cell at `res`, category) in [since, before), with the latest time."""
    if not cells:
        return []
    rows = await session.execute(
        _MIX,
        {"res": res, "cells": cells, "since": since, "before": before,
         "max_radius": max_radius_m},
    )
    return [dict(r) for r in rows.mappings()]
