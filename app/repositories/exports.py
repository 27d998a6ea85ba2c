"""Rows for exports, read in batches from a server-side cursor (never the whole table at once)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Incident
from app.repositories.incidents import INCIDENT_COLUMNS, IncidentFilter
from app.repositories.incidents import _where as incident_where


async def incident_batches(session: AsyncSession, f: IncidentFilter, batch: int
                           ) -> AsyncIterator[list[dict[str, Any]]]:
    """Incidents matching `f`, oldest first, `batch` rows at a time (server-side cursor)."""
    stmt = incident_where(select(*INCIDENT_COLUMNS), f).order_by(Incident.occurred_start,
                                                                 Incident.id)
    result = await session.stream(stmt.execution_options(yield_per=batch))
    async for part in result.mappings().partitions(batch):
        yield [dict(r) for r in part]


async def count_incidents(session: AsyncSession, f: IncidentFilter) -> int:
    stmt = incident_where(select(func.count()).select_from(Incident), f)
    return int((await session.execute(stmt)).scalar_one())


PARENT = ("((i.h3_cell & ~(15::bigint << 52)) | (CAST(:res AS bigint) << 52)) "
          "| ((1::bigint << (3 * (15 - CAST(:res AS int)))) - 1)")


async def cell_admin1(session: AsyncSession, *, res: int, cells: list[int], start: datetime,
                      end: datetime, statuses: list[str]) -> dict[int, str]:
    """The most frequent first-level administrative area named by each cell's incidents in the
    window (a label for the cell; coarser than the cell itself)."""
    if not cells:
        return {}
    sql = text(f"""
SELECT DISTINCT ON (cell) cell, admin1 FROM (
    SELECT {PARENT} AS cell, i.admin1, count(*) AS n
    FROM incident i
    WHERE i.occurred_start >= :start AND i.occurred_start <= :end AND i.status = ANY(:statuses)
      AND i.admin1 IS NOT NULL AND ({PARENT}) = ANY(:cells)
    GROUP BY 1, 2) x
ORDER BY cell, n DESC, admin1""")
    rows = await session.execute(sql, {"res": res, "start": start, "end": end,
                                       "statuses": statuses, "cells": cells})
    return {int(r[0]): str(r[1]) for r in rows}
