"""Per-cell incident profiles for patrol planning (the only place their SQL is built)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import h3
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories.sql_fragments import h3_parent, valid_cell

# Violations of civilians' physical integrity (the `violations` counter), not the threat layer's
# per-event `harm` (app/services/threat/score.py).
VIOLATION_CATEGORIES = ("killing", "injury", "abduction", "sexual_violence")
HUMANITARIAN = ("attack_on_peacekeepers", "looting_destruction")

PARENT = h3_parent("i.h3_cell", ":res")
VALID_CELL = valid_cell("i.h3_cell", ":res")

PROFILE_SQL = f"""
SELECT {PARENT} AS cell,
       CASE WHEN i.time_precision = 1
            THEN EXTRACT(ISODOW FROM i.occurred_start AT TIME ZONE CAST(:tz AS text))::int - 1
       END AS dow,
       -- Imported events (UCDP, ACLED) carry a date, not an hour: only incidents recorded
       -- in Kinga with a time say when in the day attacks happen.
       CASE WHEN i.external_source IS NULL
            THEN EXTRACT(HOUR FROM i.occurred_start AT TIME ZONE CAST(:tz AS text))::int END AS hour,
       count(*) AS incidents,
       count(*) FILTER (WHERE i.occurred_start > :ongoing_since) AS recent,
       count(*) FILTER (WHERE i.occurred_start > :violation_since
                        AND i.category = ANY(:violation_categories)) AS violations,
       count(*) FILTER (WHERE i.status = 'entered') AS unverified,
       coalesce(sum(i.displaced), 0) AS displaced,
       coalesce(sum(i.crsv_survivors), 0)
           + count(*) FILTER (WHERE i.category = 'sexual_violence') AS crsv,
       count(*) FILTER (WHERE i.category = ANY(:humanitarian)) AS humanitarian
FROM incident i
WHERE i.occurred_start > :since AND i.occurred_start <= :until
  AND i.status IN ('entered', 'validated', 'approved')
  AND {VALID_CELL}
GROUP BY 1, 2, 3
"""

COUNTERS = ("incidents", "recent", "violations", "unverified", "displaced", "crsv", "humanitarian")


async def cell_profiles(session: AsyncSession, *, res: int, until: datetime, window_days: int,
                        ongoing_days: int, violation_days: int, timezone: str
                        ) -> dict[str, dict[str, Any]]:
    """Counts, hour-of-day and weekday histograms of the incidents in each cell at `res`, in the
    mission's local time (an IANA zone: the offset of each incident's own date)."""
    params = {"res": res, "until": until, "since": until - timedelta(days=window_days),
              "ongoing_since": until - timedelta(days=ongoing_days),
              "violation_since": until - timedelta(days=violation_days),
              "violation_categories": list(VIOLATION_CATEGORIES),
              "humanitarian": list(HUMANITARIAN), "tz": timezone}
    out: dict[str, dict[str, Any]] = {}
    for row in (await session.execute(text(PROFILE_SQL), params)).mappings():
        cell = h3.int_to_str(int(row["cell"]))
        p = out.setdefault(cell, {**dict.fromkeys(COUNTERS, 0), "hours": [0] * 24,
                                  "dows": [0] * 7})
        for key in COUNTERS:
            p[key] += int(row[key])
        if row["hour"] is not None:
            p["hours"][row["hour"]] += int(row["incidents"])
        if row["dow"] is not None:
            p["dows"][row["dow"]] += int(row["incidents"])
    return out


async def earliest_incident(session: AsyncSession) -> datetime | None:
    return (await session.execute(text(
        "SELECT min(occurred_start) FROM incident "
        "WHERE status IN ('entered', 'validated', 'approved')"))).scalar_one()
