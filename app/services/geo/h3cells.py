"""H3 helpers. Cells are stored as signed BIGINT; H3 indexes keep bit 63 clear so they fit as-is.

A parent cell is a pure bit operation on the index: set the resolution field (bits 52-55) and fill
the digits below the parent's resolution with 7. The same expression runs in SQL
(see repositories), so one stored fine resolution serves every coarser one.
"""

from __future__ import annotations

from functools import lru_cache

import h3
from h3.api import basic_int as h3int

RES_SHIFT = 52
RES_MASK = 0xF << RES_SHIFT


def to_int(cell: str) -> int:
    return h3.str_to_int(cell)


U64 = (1 << 64) - 1


def to_str(cell: int) -> str:
    """The hex form of a stored cell index. Pure formatting, so even a corrupt stored value
    (negative, or not an H3 index) prints instead of failing the list that shows it."""
    return f"{cell & U64:x}"


def valid_cell(cell: int) -> bool:
    """An H3 cell index (a stored value may be anything; see app.repositories.hotspots)."""
    return 0 < cell <= U64 >> 1 and bool(h3int.is_valid_cell(cell))


def latlng_cell(lat: float, lng: float, res: int) -> int:
    return h3.str_to_int(h3.latlng_to_cell(lat, lng, res))


def parent_int(cell: int, res: int) -> int:
    """Parent of an H3 cell index at a coarser resolution, by bit arithmetic."""
    unused = (1 << (3 * (15 - res))) - 1
    return (cell & ~RES_MASK) | (res << RES_SHIFT) | unused


def cell_radius_m(res: int) -> float:
    """Average circumradius of a cell at this resolution (hexagon edge = circumradius)."""
    return float(h3.average_hexagon_edge_length(res, unit="m"))


@lru_cache(maxsize=262_144)
def cell_polygon(cell: str) -> dict[str, object]:
    """RFC 7946 geometry of an H3 cell: lon/lat order, closed ring, counter-clockwise exterior.

    h3 returns the boundary counter-clockwise in (lat, lng); swapping to (lng, lat) keeps it CCW
    in lon/lat space. A cell that crosses the antimeridian becomes a MultiPolygon of its two
    halves, cut at +/-180 (RFC 7946 section 3.1.9). Pentagons need nothing special (h3 gives
    their distortion vertices too). Cells are immutable, so the result is cached: callers must
    not modify it.
    """
    ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
    pole = _pole_inside(cell)
    if pole:
        return _around_pole(ring, pole)
    # An edge crosses the antimeridian when consecutive vertices jump by more than 180 degrees of
    # longitude; a wide cell (res 0-1 near the poles) can span > 180 degrees without crossing.
    if any(abs(a[0] - b[0]) > 180 for a, b in zip(ring, ring[1:] + ring[:1], strict=True)):
        return _split_antimeridian(ring)
    # 7 decimals (~1 cm) keep payloads small; rounding each vertex once keeps the ring closed.
    coords = [[round(lng, 7), round(lat, 7)] for lng, lat in ring]
    coords.append(coords[0])
    return {"type": "Polygon", "coordinates": [coords]}


def _pole_inside(cell: str) -> int:
    """+1 / -1 when the cell contains the north / south pole (only a few coarse cells do)."""
    res = h3.get_resolution(cell)
    if h3.latlng_to_cell(90.0, 0.0, res) == cell:
        return 1
    if h3.latlng_to_cell(-90.0, 0.0, res) == cell:
        return -1
    return 0


def _around_pole(ring: list[tuple[float, float]], pole: int) -> dict[str, object]:
    """A cell around a pole wraps all longitudes once: cut it at the antimeridian and close the
    ring along the pole's latitude. Counter-clockwise boundaries run east around the north pole
    and west around the south pole, so the one step against that direction is the wrap."""
    n = len(ring)
    wrap = next(k for k in range(n)
                if (ring[(k + 1) % n][0] < ring[k][0]) == (pole > 0))
    seq = ring[wrap + 1:] + ring[:wrap + 1]
    (x0, y0), (x1, y1) = seq[-1], seq[0]
    x1u = x1 + 360 if pole > 0 else x1 - 360
    edge = 180.0 if pole > 0 else -180.0
    y_cross = y0 + (edge - x0) / (x1u - x0) * (y1 - y0)
    top = 90.0 * pole
    coords = [(-edge, y_cross), *seq, (edge, y_cross), (edge, top), (-edge, top), (-edge, y_cross)]
    return {"type": "Polygon",
            "coordinates": [[[round(x, 7), round(y, 7)] for x, y in coords]]}


def _split_antimeridian(ring: list[tuple[float, float]]) -> dict[str, object]:
    from shapely.geometry import Polygon, box
    from shapely.geometry.polygon import orient

    shifted = Polygon([(lng + 360 if lng < 0 else lng, lat) for lng, lat in ring])
    west = shifted.intersection(box(0, -90, 180, 90))
    east = shifted.intersection(box(180, -90, 360, 90))
    parts = []
    for part, dx in ((west, 0.0), (east, -360.0)):
        if part.is_empty or part.geom_type != "Polygon":
            continue
        part = orient(part, sign=1.0)
        coords = [[x + dx, y] for x, y in part.exterior.coords]
        parts.append([coords])
    return {"type": "MultiPolygon", "coordinates": parts}
