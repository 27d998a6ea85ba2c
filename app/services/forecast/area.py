"""The area a forecast covers: the one place that turns a mission (or nothing) into an outline.

A forecast covers a mission's area of operations (docs/missions.md): the mission a request
names, else the default mission (the bundled profile marked default, or the only stored one). A
named mission's or an AOR's area also clips the answer (`clip`): only cells whose centre lies in
it are returned. Everything downstream works on `ForecastArea`; model cards are stored per
`code` (the mission's code, with the AOR's id when the forecast is of one AOR).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely

from app.services.forecast.errors import NoData
from app.services.missions import clip as clipping
from app.services.missions.profile import Mission, fallback
from app.settings import Settings

# Events this far (degrees) outside the outline's bounding box still count in a backtest's
# totals (border incidents), so no method is rewarded for an area drawn too tight; events of
# another mission's area do not.
EVENT_MARGIN_DEG = 0.5


@dataclass(frozen=True)
class ForecastArea:
    code: str  # what cards and requests name the area by
    geometry_json: str  # GeoJSON (Multi)Polygon, sorted keys (a cache key)
    clip: bool = False  # a named mission or AOR: answers hold only cells inside it

    @property
    def geometry(self) -> dict[str, Any]:
        return json.loads(self.geometry_json)  # type: ignore[no-any-return]

    def cells(self, res: int) -> np.ndarray:
        """Every res-`res` cell overlapping the outline (the PAI denominator), sorted."""
        return clipping.domain_cells(self.geometry, res)

    def inside(self, cells: np.ndarray) -> np.ndarray:
        """Which cells (int64) have their centre in the area (all of them when not clipping)."""
        if not self.clip or len(cells) == 0:
            return np.ones(len(cells), bool)
        return clipping.inside(self.geometry, cells.tolist())

    @property
    def event_bbox(self) -> tuple[float, float, float, float]:
        x1, y1, x2, y2 = _bounds(self.geometry_json)
        m = EVENT_MARGIN_DEG
        return x1 - m, y1 - m, x2 + m, y2 + m


@lru_cache(maxsize=16)
def _bounds(geometry_json: str) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = shapely.geometry.shape(json.loads(geometry_json)).bounds
    return float(x1), float(y1), float(x2), float(y2)


def forecast_area(settings: Settings, mission: Mission | None = None,
                  clip_area: dict[str, Any] | None = None, aor_id: Any = None) -> ForecastArea:
    """The area of `mission` (None: the default mission's), or `clip_area` inside it (a named
    mission's area or an AOR: the answer is clipped to it)."""
    m = mission if mission is not None and mission.area is not None else fallback(settings)
    geometry = clip_area if clip_area is not None else m.area
    if geometry is None:
        raise NoData("no mission area to forecast over: create a mission (kinga mission create)")
    code = m.code if aor_id is None else f"{m.code}:{aor_id}"
    return ForecastArea(code, json.dumps(geometry, sort_keys=True), clip=clip_area is not None)


def scope_area(settings: Settings, scope: Any) -> ForecastArea:
    """The area of a request's mission scope (app.services.missions.registry.Scope; None: the
    default mission's): clipped to a named mission or AOR."""
    if scope is None:
        return forecast_area(settings)
    return forecast_area(settings, scope.mission, scope.area if scope.clip else None,
                         aor_id=scope.aor["id"] if scope.aor else None)
