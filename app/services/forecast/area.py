"""The area a forecast covers: the one place that turns a mission (or nothing) into an outline.

Until missions carry their own area of operations, a mission code is the ISO 3166 alpha-3 code
of a country outline in `geodata/naturalearth-countries.geojson`, and no code means the
configured country (`KINGA_FORECAST_COUNTRY_ISO`). When mission records land, only
`forecast_area` changes: everything downstream works on `ForecastArea`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely

from app.errors import InvalidInput
from app.services.forecast.features import _outline, domain_cells
from app.settings import Settings

# Events this far (degrees) outside the outline's bounding box still count in a backtest's
# totals (border incidents), so no method is rewarded for an area drawn too tight; events of
# another mission's area do not.
EVENT_MARGIN_DEG = 0.5


@dataclass(frozen=True)
class ForecastArea:
    code: str  # what cards and requests name the area by
    outline_path: str
    outline_key: str

    def cells(self, res: int) -> np.ndarray:
        """Every res-`res` cell overlapping the outline (the PAI denominator), sorted."""
        return domain_cells(self.outline_path, self.outline_key, res)

    @property
    def event_bbox(self) -> tuple[float, float, float, float]:
        x1, y1, x2, y2 = _bounds(self.outline_path, self.outline_key)
        m = EVENT_MARGIN_DEG
        return x1 - m, y1 - m, x2 + m, y2 + m


@lru_cache(maxsize=16)
def _bounds(path: str, key: str) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = shapely.geometry.shape(_outline(path, key)).bounds
    return float(x1), float(y1), float(x2), float(y2)


def forecast_area(settings: Settings, mission: str | None = None) -> ForecastArea:
    """The area for a mission code (None: the configured country). Unknown codes are refused."""
    path = str(settings.geodata_dir / "naturalearth-countries.geojson")
    code = (mission or settings.forecast_country_iso).strip().upper()
    try:
        _outline(path, code)
    except LookupError:
        raise InvalidInput(
            f"unknown mission or area {code!r}",
            errors=[{"pointer": "/query/mission", "detail": "no area of operations is known by "
                     "this code"}],
        ) from None
    return ForecastArea(code, path, code)
