"""The reporting-effort layer as GeoJSON features for a threat-layer query's resolution and
window (the window rules are the threat layer's: app/services/threat/layer.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.geo.h3cells import cell_polygon
from app.services.threat.layer import HotspotQuery, validate, window
from app.services.threat.reporting_effort import Window, effort
from app.settings import Settings


async def layer(session: AsyncSession, q: HotspotQuery, settings: Settings,
                statuses: list[str] | None = None) -> list[dict[str, Any]]:
    """Least reported first: none, thin, then by reports."""
    validate(q, settings)
    w = window(q)
    found = await effort(session, Window(q.res, w.start, w.end), q.role, settings)
    order = {"none": 0, "thin": 1, "adequate": 2}
    cells = sorted(found.items(), key=lambda kv: (order[kv[1]["status"]], kv[1]["reports"], kv[0]))
    return [{"type": "Feature", "id": cell, "geometry": cell_polygon(cell),
             "properties": {"cell": cell, "resolution": q.res, **e}}
            for cell, e in cells if statuses is None or e["status"] in statuses]
