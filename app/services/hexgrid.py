"""H3 helpers. Cells are stored as signed BIGINT; H3 indexes keep bit 63 clear so they fit as-is.

A parent cell is a pure bit operation on the index: set the resolution field (bits 52-55) and fill
the digits below the parent's resolution with 7. The same expression runs in SQL
(see repositories), so one stored fine resolution serves every coarser one.
"""

from __future__ import annotations

import h3

RES_SHIFT = 52
RES_MASK = 0xF << RES_SHIFT


def to_int(cell: str) -> int:
    return h3.str_to_int(cell)


def to_str(cell: int) -> str:
    return h3.int_to_str(cell)


def latlng_cell(lat: float, lng: float, res: int) -> int:
    return h3.str_to_int(h3.latlng_to_cell(lat, lng, res))


def parent_int(cell: int, res: int) -> int:
    """Parent of an H3 cell index at a coarser resolution, by bit arithmetic."""
    unused = (1 << (3 * (15 - res))) - 1
    return (cell & ~RES_MASK) | (res << RES_SHIFT) | unused


def cell_radius_m(res: int) -> float:
    """Average circumradius of a cell at this resolution (hexagon edge = circumradius)."""
    return float(h3.average_hexagon_edge_length(res, unit="m"))


def cell_polygon(cell: str) -> dict[str, object]:
    """RFC 7946 Polygon of an H3 cell: lon/lat order, closed ring, counter-clockwise exterior.

    h3 returns the boundary counter-clockwise in (lat, lng); swapping to (lng, lat) keeps it CCW
    in lon/lat space. Cells that cross the antimeridian are split by callers that need it (the
    hotspot layer owns that case and its tests).
    """
    ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(cell)]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}
