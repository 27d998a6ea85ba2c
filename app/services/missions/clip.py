"""Clipping answers to a mission or an area of responsibility, at the granularity of the answer:
an H3 cell belongs to an area when its centre lies in it. Cells of two areas that do not overlap
never coincide, so nothing from one mission's area shows in another's answer. Pure and cheap
(vectorised point-in-polygon on cell centres): it filters per-cell results after aggregation, so
cached per-cell sums serve every mission."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import h3
import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry


@lru_cache(maxsize=64)
def _prepared(area_json: str) -> BaseGeometry:
    g = shape(json.loads(area_json))
    shapely.prepare(g)
    return g


def geometry(area: dict[str, Any]) -> BaseGeometry:
    return _prepared(json.dumps(area, sort_keys=True))


def centres(cells: Sequence[Any]) -> np.ndarray:
    """(lat, lon) of each cell (H3 strings or integers)."""
    out = np.empty((len(cells), 2), dtype=float)
    for i, c in enumerate(cells):
        s = c if isinstance(c, str) else h3.int_to_str(int(c))
        out[i] = h3.cell_to_latlng(s)
    return out


def inside(area: dict[str, Any] | None, cells: Sequence[Any]) -> np.ndarray:
    """Boolean mask: the cells whose centre lies in the area (all, without an area)."""
    if area is None:
        return np.ones(len(cells), dtype=bool)
    if len(cells) == 0:
        return np.zeros(0, dtype=bool)
    c = centres(cells)
    return np.asarray(shapely.intersects_xy(geometry(area), c[:, 1], c[:, 0]), dtype=bool)


def points_inside(area: dict[str, Any] | None, lons: Any, lats: Any) -> np.ndarray:
    if area is None:
        return np.ones(len(lons), dtype=bool)
    return np.asarray(shapely.intersects_xy(geometry(area), np.asarray(lons, float),
                                            np.asarray(lats, float)), dtype=bool)


def domain_cells(area: dict[str, Any], res: int) -> np.ndarray:
    """All cells at `res` that intersect the area (sorted int64): a forecast's area term."""
    return _domain(json.dumps(area, sort_keys=True), res)


@lru_cache(maxsize=32)
def _domain(area_json: str, res: int) -> np.ndarray:
    shp = h3.geo_to_h3shape(json.loads(area_json))
    cells = h3.h3shape_to_cells_experimental(shp, res, contain="overlap")
    return np.array(sorted(h3.str_to_int(c) for c in cells), dtype=np.int64)
