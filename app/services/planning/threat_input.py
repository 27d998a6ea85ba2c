"""The threat layer as the planners read it: one dated window, clipped to the request's mission
or AOR and decayed on its scale (the hotspot scoring itself, never a copy of it). Shared by the
plans and reviews (service.py) and the plans' coverage backtest (forecast_weight.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role
from app.errors import Conflict
from app.services.missions.registry import Scope
from app.settings import Settings


async def threat_cells_at(session: AsyncSession, res: int, as_of: datetime, window_days: int,
                          settings: Settings, role: Role,
                          bbox: tuple[float, float, float, float] | None = None,
                          with_pattern: bool = False, scope: Scope | None = None,
                          decay_scale_days: float | None = None) -> list[dict[str, Any]]:
    try:
        from app.services.threat.layer import HotspotQuery, threat_layer
    except ImportError:  # the threat layer ships with the hotspot feature
        raise Conflict("the threat layer is not available in this deployment") from None
    q = HotspotQuery(res=res, as_of=as_of, window_days=window_days, bbox=bbox,
                     with_pattern=with_pattern, role=role,
                     area=scope.area if scope else None, area_key=scope.key if scope else (),
                     decay_scale_days=decay_scale_days or (
                         scope.mission.decay_scale_days if scope else None),
                     precision_decay=scope.mission.precision_decay if scope else False)
    return await threat_layer(session, q, settings)
