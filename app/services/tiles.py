"""Mapbox Vector Tiles of the threat layer: Web-Mercator tile maths and MVT encoding.

The hexagon resolution follows the zoom so a cell stays a few pixels to a few dozen pixels wide.
"""

from __future__ import annotations

import math
from typing import Any

import mapbox_vector_tile
import numpy as np
from shapely import clip_by_rect
from shapely.geometry import MultiPolygon, Polygon

from app.errors import InvalidInput
from app.services.hexgrid import cell_polygon

EXTENT = 4096
BUFFER = 64  # tile units kept outside the tile so neighbouring tiles' outlines join
LAYER = "hotspots"
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
TILE_PROPERTIES = ("cell", "threat_score", "threat_level", "protection_tier", "incidents",
                   "fatalities", "crsv", "pattern")


def check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= 22:
        raise InvalidInput("z must be between 0 and 22",
                           errors=[{"pointer": "/path/z", "detail": "0..22"}])
    n = 1 << z
    for name, v in (("x", x), ("y", y)):
        if not 0 <= v < n:
            raise InvalidInput(f"{name} is outside zoom level {z}",
                               errors=[{"pointer": f"/path/{name}", "detail": f"0..{n - 1}"}])


def res_for_zoom(z: int) -> int:
    """z<=6 -> res 4 ... z8 -> 6 ... z>=11 -> 9."""
    return min(max(z - 2, 4), 9)


def _lat(y: float, n: int) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


def tile_bbox(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(minLon, minLat, maxLon, maxLat) of an XYZ tile."""
    n = 1 << z
    return (x / n * 360.0 - 180.0, _lat(y + 1, n), (x + 1) / n * 360.0 - 180.0, _lat(y, n))


def _to_tile(coords: list[list[float]], z: int, x: int, y: int) -> np.ndarray:
    a = np.asarray(coords, dtype=np.float64)
    n = float(1 << z)
    lat = np.radians(np.clip(a[:, 1], -85.0511, 85.0511))
    px = ((a[:, 0] + 180.0) / 360.0 * n - x) * EXTENT
    py = ((1.0 - np.log(np.tan(lat) + 1.0 / np.cos(lat)) / math.pi) / 2.0 * n - y) * EXTENT
    return np.column_stack([px, py])


def _tile_geometry(cell: str, z: int, x: int, y: int) -> Any:
    geom = cell_polygon(cell)
    coords: Any = geom["coordinates"]
    polys = coords if geom["type"] == "MultiPolygon" else [coords]
    shapes = [Polygon(_to_tile(p[0], z, x, y)) for p in polys]
    shape = shapes[0] if len(shapes) == 1 else MultiPolygon(shapes)
    return clip_by_rect(shape, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)


def encode(cells: list[dict[str, Any]], z: int, x: int, y: int) -> bytes:
    features = []
    for c in cells:
        geom = _tile_geometry(c["cell"], z, x, y)
        if geom.is_empty:
            continue
        props = {k: c[k] for k in TILE_PROPERTIES if c.get(k) is not None}
        features.append({"geometry": geom, "properties": props, "id": int(c["cell"], 16)})
    return mapbox_vector_tile.encode(  # type: ignore[no-any-return]
        [{"name": LAYER, "features": features}],
        default_options={"y_coord_down": True, "extents": EXTENT})
