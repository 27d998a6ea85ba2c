"""Impact of responses and patrols: the treatments (closed responses that went, patrols that
went) and per-cell incident counts and harm before and after a moment, around a place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories.hotspots import PARENT

RESPONSES_SQL = """
SELECT w.id, w.rule, w.source, w.severity, w.outcome, w.assigned_to, w.h3_cell,
       w.owner_aor_id AS aor_id,
       ST_Y(ST_PointOnSurface(w.area)) AS latitude, ST_X(ST_PointOnSurface(w.area)) AS longitude,
       coalesce(w.on_scene_at, w.dispatched_at, w.acknowledged_at, w.closed_at) AS at
FROM warning w
WHERE w.status = 'closed' AND (w.on_scene_at IS NOT NULL OR w.dispatched_at IS NOT NULL)
  AND coalesce(w.on_scene_at, w.dispatched_at) >= :start
  AND coalesce(w.on_scene_at, w.dispatched_at) <= :end
ORDER BY at, w.id
"""


async def closed_responses(session: AsyncSession, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Warnings closed with an outcome after a unit went (dispatched or on scene in the window);
    the moment is when it arrived (or, unrecorded, when it was dispatched)."""
    rows = await session.execute(text(RESPONSES_SQL), {"start": start, "end": end})
    return [dict(r) for r in rows.mappings()]


CELL_SQL = f"""
SELECT {PARENT} AS cell,
       count(*) FILTER (WHERE i.occurred_start < :at) AS n_before,
       count(*) FILTER (WHERE i.occurred_start >= :at) AS n_after,
       coalesce(sum(h.harm) FILTER (WHERE i.occurred_start < :at), 0) AS harm_before,
       coalesce(sum(h.harm) FILTER (WHERE i.occurred_start >= :at), 0) AS harm_after
FROM incident i
CROSS JOIN LATERAL (SELECT 1.0 + :hf * i.fatalities_best + :hi * i.injured
                    + :hc * i.children_affected + :hd * ln(1.0 + i.displaced) AS harm) h
WHERE i.status <> 'rejected'
  AND i.occurred_start >= :t0 AND i.occurred_start < :t1
  AND i.location && ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :deg)
  AND ST_DWithin(i.location::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius_m)
GROUP BY 1
"""


async def cell_counts(session: AsyncSession, *, at: datetime, t0: datetime, t1: datetime,
                      lat: float, lon: float, radius_m: float, res: int,
                      harm: dict[str, float]) -> dict[int, dict[str, float]]:
    """Per cell at `res` within `radius_m` of (lat, lon): incidents and harm in [t0, at) and
    [at, t1). Cells with no incident are absent (zero)."""
    deg = radius_m / 111_000.0 * 2.0  # generous box for the index; ST_DWithin decides
    rows = await session.execute(text(CELL_SQL), {
        "at": at, "t0": t0, "t1": t1, "lat": lat, "lon": lon, "deg": deg, "radius_m": radius_m,
        "res": res, "hf": harm["fatality"], "hi": harm["injured"], "hc": harm["children"],
        "hd": harm["displaced_log"]})
    return {int(r["cell"]): {"n_before": int(r["n_before"]), "n_after": int(r["n_after"]),
                             "harm_before": float(r["harm_before"]),
                             "harm_after": float(r["harm_after"])}
            for r in rows.mappings()}
