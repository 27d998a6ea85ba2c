"""Mapbox Vector Tiles of the threat layer: Web-Mercator tile maths and MVT encoding.

The hexagon resolution follows the zoom so a cell stays a few pixels to a few dozen pixels wide.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import shapely
from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.repositories import tiles as repo
from app.services.geo.h3cells import cell_polygon

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


@lru_cache(maxsize=200_000)
def _cell_wkb(cell: str) -> bytes:
    """The hexagon (RFC 7946 geometry of app.services.geo.h3cells) as WKB; cells never change."""
    return shapely.to_wkb(shape(cell_polygon(cell)))  # type: ignore[no-any-return]


async def encode(session: AsyncSession, cells: list[dict[str, Any]], z: int, x: int, y: int
                 ) -> bytes:
    """The scored cells as one MVT layer (`hotspots`), encoded by PostGIS; feature id = the
    H3 index as an integer, properties TILE_PROPERTIES (absent when null)."""
    features: dict[str, list[Any]] = {
        "ids": [int(c["cell"], 16) for c in cells],
        "wkbs": [_cell_wkb(c["cell"]) for c in cells],
        "cells": [c["cell"] for c in cells],
        "scores": [c["threat_score"] for c in cells],
        "levels": [c["threat_level"] for c in cells],
        "tiers": [c["protection_tier"] for c in cells],
        "incidents": [c["incidents"] for c in cells],
        "fatalities": [c.get("fatalities") for c in cells],
        "crsv": [c.get("crsv") for c in cells],
        "patterns": [c.get("pattern") for c in cells],
    }
    return await repo.mvt(session, z, x, y, layer=LAYER, extent=EXTENT, buffer=BUFFER,
                          features=features)
