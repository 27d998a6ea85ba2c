"""Scored cells of a threat layer, rebuilt only where something changed.

After a write, `layer_sums` gives the new per-cell sums; the emerging-pattern analysis is redone
for all cells (Gi* is global), but a cell whose sums, perpetrator counts and pattern are the same
as in the previous result keeps its scored item and its serialised GeoJSON feature. Building
~6,000 property dicts and serialising 4.5 MB of GeoJSON was most of a cold response; now only
the changed cells are (typically a handful).

Items are shared between cached results: nobody may modify them (callers get copies).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import orjson

from app.repositories import hotspots as repo
from app.services.geo.h3cells import cell_polygon, to_str
from app.services.threat import emerging
from app.services.threat import score as scoring
from app.services.threat.cache import LRU, layer_cache
from app.services.threat.cell_sums import COL, LayerSums
from app.settings import Settings

SCORED_KEYS = ("threat_score", "threat_level", "protection_tier", "likelihood", "impact",
               "crsv_impact", "vulnerability")
ITEM_KEYS = ("cell", "resolution", *SCORED_KEYS, "incidents", "fatalities", "crsv",
             "top_categories", "top_perpetrators", "trend", "pattern")
_JSON_OPTS = orjson.OPT_SERIALIZE_NUMPY


@dataclass
class Scored:
    """Every cell of a layer scored, rows aligned with `sums.cells` (unfiltered: min_level, bbox
    edges and partner rules are applied per request)."""

    sums: LayerSums
    patterns: list[str | None]
    items: list[dict[str, Any]]
    features: list[bytes | None]  # serialised GeoJSON Feature per row, filled on demand
    weights: Any = None  # the Gi* neighbour matrix of sums.cells (reused while cells stay)

    def order(self) -> np.ndarray:
        """Rows by threat score, highest first, then by cell (H3 strings sort like the ints)."""
        scores = np.fromiter((i["threat_score"] for i in self.items), dtype=np.float64,
                             count=len(self.items))
        return np.lexsort((self.sums.cells, -scores))

    def feature(self, row: int) -> bytes:
        found = self.features[row]
        if found is None:
            found = self.features[row] = feature_bytes(self.items[row])
        return found

    def features_of(self, rows: list[int]) -> list[bytes]:
        """Serialised features of these rows; the missing ones are serialised in one call."""
        todo = [r for r in rows if self.features[r] is None]
        for r, made in zip(todo, features_bytes([self.items[r] for r in todo]), strict=True):
            self.features[r] = made
        return [self.features[r] for r in rows]  # type: ignore[misc]


@lru_cache(maxsize=262_144)
def geometry_bytes(cell: str) -> orjson.Fragment:
    """A cell's RFC 7946 geometry, serialised once (hexagons never change)."""
    return orjson.Fragment(orjson.dumps(cell_polygon(cell)))


def _feature(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": item["cell"], "geometry": geometry_bytes(item["cell"]),
            "properties": item}


def feature_bytes(item: dict[str, Any]) -> bytes:
    """One scored cell as a serialised GeoJSON Feature (id = the H3 cell)."""
    return orjson.dumps(_feature(item), default=str, option=_JSON_OPTS)


_SEPARATOR = b'},{"type":"Feature",'


def features_bytes(items: list[dict[str, Any]]) -> list[bytes]:
    """`feature_bytes` of many items with one orjson call (per-call overhead was most of the
    cost), split between features: `},{"type":"Feature",` cannot occur inside a JSON string,
    whose quotes are escaped."""
    if len(items) < 2:
        return [feature_bytes(i) for i in items]
    body = orjson.dumps([_feature(i) for i in items], default=str, option=_JSON_OPTS)
    parts = body[1:-1].split(_SEPARATOR)
    assert len(parts) == len(items)
    last = len(parts) - 1
    return [(b"" if k == 0 else b'{"type":"Feature",') + part + (b"" if k == last else b"}")
            for k, part in enumerate(parts)]


def _weigh(s: Scored) -> int:
    return 4096 + 3072 * len(s.items)  # an item ~2 kB as dicts, its feature ~0.8 kB


_SCORED: LRU[Scored] = layer_cache(256, _weigh)



def _top_categories(cats: np.ndarray) -> list[list[dict[str, Any]]]:
    """Per row the three most frequent categories (ties by name), from the count matrix. Rows
    with the same counts share one (immutable) list: most cells have a handful of incidents."""
    names = repo.CATEGORY_COLUMNS
    if not len(cats):
        return []
    rows, where = np.unique(cats, axis=0, return_inverse=True)
    alpha = np.argsort(np.argsort(names))  # rank of each column's name
    order = np.argsort(-rows * len(names) + alpha[None, :], axis=1)[:, :3]
    counts = np.take_along_axis(rows, order, axis=1).tolist()
    lists = [[{"category": names[j], "incidents": n} for j, n in zip(o, c, strict=True) if n > 0]
             for o, c in zip(order.tolist(), counts, strict=True)]
    return [lists[i] for i in where.ravel().tolist()]


def _by_count_then_name(kv: tuple[str, int]) -> tuple[int, str]:
    return -kv[1], kv[0]


def _top_perpetrators(perps: list[dict[str, int]] | None, n: int) -> list[list[dict[str, Any]]]:
    if perps is None:
        return [[] for _ in range(n)]
    out: list[list[dict[str, Any]]] = []
    for p in perps:
        size = len(p)
        if size == 1:
            ((k, v),) = p.items()
            out.append([{"name": k, "incidents": v}])
        elif size == 2:  # the common case (a dyad): no sort
            (k1, v1), (k2, v2) = p.items()
            if v2 > v1 or (v2 == v1 and k2 < k1):
                k1, v1, k2, v2 = k2, v2, k1, v1
            out.append([{"name": k1, "incidents": v1}, {"name": k2, "incidents": v2}])
        elif size == 0:
            out.append([])
        else:
            out.append([{"name": k, "incidents": v}
                        for k, v in sorted(p.items(), key=_by_count_then_name)[:3]])
    return out


_CELL_STR: dict[int, str] = {}


def _cell_strings(cells: list[int]) -> list[str]:
    """H3 strings of integer cells (cells never change: kept, up to a bound)."""
    if len(_CELL_STR) > 1_000_000:
        _CELL_STR.clear()
    get = _CELL_STR.get
    out = []
    for c in cells:
        found = get(c)
        if found is None:
            found = _CELL_STR[c] = to_str(c)
        out.append(found)
    return out


def build_items(sums: LayerSums, rows: np.ndarray, patterns: list[str | None], *, res: int,
                steps: int, step_days: int, settings: Settings,
                vulnerability: Callable[[int, Settings], float]) -> list[dict[str, Any]]:
    """Scored layer properties for the given rows of `sums` (vectorised per column)."""
    cell_ids = sums.cells[rows].tolist()
    n = len(cell_ids)
    values = sums.values[rows]

    def col(name: str) -> np.ndarray:
        return values[:, COL[name]]

    vul = (np.array([vulnerability(c, settings) for c in cell_ids])
           if settings.vulnerability_layer else np.ones(n))
    scored = scoring.score_cells(col("harm"), col("crsv_harm"), col("likelihood"), vul, settings)
    counts = [np.rint(col(k)).astype(np.int64).tolist() for k in ("incidents", "fatalities", "crsv")]
    columns = [
        _cell_strings(cell_ids), [res] * n, *(scored[k] for k in SCORED_KEYS), *counts,
        _top_categories(sums.cats[rows]),
        ([sums.top_perps[i] for i in rows.tolist()] if sums.top_perps is not None else
         _top_perpetrators(None if sums.perps is None else [sums.perps[i] for i in rows], n)),
        scoring.trends(col("trend_num"), steps, step_days), [patterns[i] for i in rows],
    ]
    return [dict(zip(ITEM_KEYS, v, strict=True)) for v in zip(*columns, strict=True)]


def score(key: Hashable | None, sums: LayerSums, *, res: int, steps: int, step_days: int,
          with_pattern: bool, settings: Settings,
          vulnerability: Callable[[int, Settings], float]) -> Scored:
    """The scored layer for these sums, reusing the previous result's unchanged rows."""
    prev = _SCORED.get(key) if key is not None else None
    if prev is not None and prev.sums is sums:
        return prev
    n = len(sums)
    weights = None
    if prev is not None and prev.weights is not None and np.array_equal(prev.sums.cells,
                                                                         sums.cells):
        weights = prev.weights
    elif with_pattern and n >= 3:
        weights = emerging.neighbour_matrix(sums.cells.tolist(), settings.hotspot_ring_k)
    patterns: list[str | None] = (
        list(emerging.emerging_patterns(sums.cells.tolist(), sums.series,
                                        k=settings.hotspot_ring_k, alpha=settings.hotspot_alpha,
                                        weights=weights))
        if with_pattern and sums.series is not None else [None] * n)
    items: list[dict[str, Any] | None] = [None] * n
    features: list[bytes | None] = [None] * n
    if prev is not None and len(prev.sums) and n:
        old = prev.sums
        at = np.minimum(np.searchsorted(old.cells, sums.cells), len(old) - 1)
        same = old.cells[at] == sums.cells
        same &= (old.values[at] == sums.values).all(axis=1) & (old.cats[at] == sums.cats).all(axis=1)
        same &= np.array(prev.patterns, dtype=object)[at] == np.array(patterns, dtype=object)
        if sums.perps is not None and old.perps is not None:
            same &= np.fromiter((old.perps[j] is sums.perps[i] or old.perps[j] == sums.perps[i]
                                 for i, j in enumerate(at.tolist())), dtype=bool, count=n)
        for i in np.flatnonzero(same).tolist():
            items[i], features[i] = prev.items[at[i]], prev.features[at[i]]
    todo = np.array([i for i, item in enumerate(items) if item is None], dtype=np.int64)
    if len(todo):
        fresh = build_items(sums, todo, patterns, res=res, steps=steps, step_days=step_days,
                            settings=settings, vulnerability=vulnerability)
        for i, item in zip(todo.tolist(), fresh, strict=True):
            items[i] = item
    result = Scored(sums, patterns, items, features, weights)  # type: ignore[arg-type]
    if key is not None and sums.version is not None:
        _SCORED.put(key, result)
    return result
