"""Reporting effort per H3 cell: how many reports, from how many sections and sources, in a window
and in the windows before it. The time of a report is the time of the event it reports (imported
reports are all received on the day of the import, which says nothing about coverage)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

PARENT = ("((i.h3_cell & ~(15::bigint << 52)) | (CAST(:res AS bigint) << 52)) "
          "| ((1::bigint << (3 * (15 - CAST(:res AS int)))) - 1)")

EFFORT_SQL = text(f"""
SELECT {PARENT} AS cell,
       count(*) FILTER (WHERE i.occurred_start >= :start) AS reports,
       count(DISTINCT r.section) FILTER (WHERE i.occurred_start >= :start) AS sections,
       coalesce(sum(r.source_count) FILTER (WHERE i.occurred_start >= :start), 0) AS sources,
       count(DISTINCT i.id) FILTER (WHERE i.occurred_start >= :start) AS incidents,
       count(*) FILTER (WHERE i.occurred_start < :start) AS history_reports,
       max(i.occurred_start) AS last_report
FROM report r JOIN incident i ON i.id = r.incident_id
WHERE i.occurred_start >= :history_start AND i.occurred_start <= :end
  AND i.status = ANY(:statuses) AND i.location_radius_m <= :max_radius
GROUP BY 1""")


async def cell_effort(session: AsyncSession, *, res: int, start: datetime, end: datetime,
                      history_start: datetime, statuses: list[str], max_radius_m: float
                      ) -> list[dict[str, Any]]:
    rows = await session.execute(EFFORT_SQL, {
        "res": res, "start": start, "end": end, "history_start": history_start,
        "statuses": statuses, "max_radius": max_radius_m})
    return [dict(r) for r in rows.mappings()]
