"""Scored cells of a threat layer, column-wise, rebuilt only where something changed.

A layer's properties are kept as columns (one list per property, rows aligned with the sums'
cells), computed with numpy a column at a time; a row's property dict is made only when a caller
asks for it (tiles, exports, partner copies), and the GeoJSON features are serialised from the
columns: each column is serialised by one orjson call and split into per-row values, which one
bytes template per row puts together. Building ~6,000 property dicts and serialising them one by
one was most of an uncached response.

After a write, `layer_sums` gives the new per-cell sums; the emerging-pattern analysis is redone
for all cells (Gi* is global), but a cell whose sums, perpetrator counts and pattern are the same
as in the previous result keeps its column values and its serialised GeoJSON feature.

Results are shared between cached requests: nobody may modify them (callers get copies).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
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
    columns: dict[str, list[Any]]  # COLUMN_KEYS -> a value per row
    trend_per: str                 # the trend's step, the same for every row ("7 days")
    features: list[bytes | None]   # serialised GeoJSON Feature per row, filled on demand
    weights: Any = None  # the Gi* neighbour matrix of sums.cells (reused while cells stay)
    _items: list[dict[str, Any] | None] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.features)

    def order(self) -> np.ndarray:
        """Rows by threat score, highest first, then by cell (H3 strings sort like the ints)."""
        scores = np.asarray(self.columns["threat_score"], dtype=np.float64)
        return np.lexsort((self.sums.cells, -scores))

    def cell(self, row: int) -> str:
        return self.columns["cell"][row]  # type: ignore[no-any-return]

    def level(self, row: int) -> str:
        return self.columns["threat_level"][row]  # type: ignore[no-any-return]

    def item(self, row: int) -> dict[str, Any]:
        """The row's properties as a dict (made once, then shared: do not modify)."""
        if not self._items:
            self._items = [None] * len(self)
        found = self._items[row]
        if found is None:
            c = self.columns
            found = self._items[row] = {
                k: ({"slope": c["trend_slope"][row], "direction": c["trend_direction"][row],
                     "per": self.trend_per} if k == "trend" else c[k][row]) for k in ITEM_KEYS}
        return found

    def features_of(self, rows: list[int]) -> list[bytes]:
        """Serialised features of these rows; the missing ones are serialised column-wise."""
        todo = sorted(r for r in rows if self.features[r] is None)  # all rows: no gather
        for r, made in zip(todo, feature_rows(self, todo), strict=True):
            self.features[r] = made
        return [self.features[r] for r in rows]  # type: ignore[misc]


@lru_cache(maxsize=262_144)
def geometry_json(cell: str) -> bytes:
    """A cell's RFC 7946 geometry, serialised once (hexagons never change)."""
    return orjson.dumps(cell_polygon(cell))


def _feature(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": item["cell"],
            "geometry": orjson.Fragment(geometry_json(item["cell"])), "properties": item}


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


# The columns of a Scored: every property but `trend`, which is kept as its two varying parts.
COLUMN_KEYS = tuple(k for k in ITEM_KEYS if k != "trend") + ("trend_slope", "trend_direction")
# One feature, as `feature_bytes` writes it, with a %s per value: id, geometry, then the
# properties in ITEM_KEYS order (the trend object inline).
_FEATURE = (b'{"type":"Feature","id":%s,"geometry":%s,"properties":{' + b",".join(
    b'"trend":{"slope":%s,"direction":%s,"per":%s}' if k == "trend" else b'"%s":%%s' % k.encode()
    for k in ITEM_KEYS) + b"}}")


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=str, option=_JSON_OPTS)


def json_scalars(values: list[Any]) -> list[bytes]:
    """`orjson.dumps` of each value (numbers, strings, null), from one call: the array split at
    its commas. A comma inside a string would add a part: then each value is serialised alone."""
    if not values:
        return []
    parts = _dumps(values)[1:-1].split(b",")
    return parts if len(parts) == len(values) else [_dumps(v) for v in values]


def json_lists(values: list[list[Any]]) -> list[bytes]:
    """`orjson.dumps` of each list (of objects), from one call: the array split at `],[`, which
    can only occur between two lists or inside a string (then there are more parts than lists
    and each list is serialised alone)."""
    if not values:
        return []
    parts = _dumps(values)[2:-2].split(b"],[")
    if len(parts) != len(values):
        return [_dumps(v) for v in values]
    return [b"[" + p + b"]" for p in parts]


def feature_rows(scored: Scored, rows: list[int]) -> list[bytes]:
    """`feature_bytes(scored.item(row))` for each row, byte for byte, without making the dicts:
    each column serialised at once, then one template per row."""
    if not rows:
        return []
    whole = len(rows) == len(scored) and rows == list(range(len(rows)))
    cols = {k: (v if whole else [v[r] for r in rows]) for k, v in scored.columns.items()}
    out = {k: (json_lists(v) if k in ("top_categories", "top_perpetrators") else json_scalars(v))
           for k, v in cols.items()}
    geometry = [geometry_json(c) for c in cols["cell"]]
    per = [_dumps(scored.trend_per)] * len(rows)
    values: list[list[bytes]] = []
    for k in ITEM_KEYS:
        values.extend((out["trend_slope"], out["trend_direction"], per) if k == "trend"
                      else (out[k],))
    return [_FEATURE % v for v in zip(out["cell"], geometry, *values, strict=True)]


def _matrix_bytes(w: Any) -> int:
    return 1024 + int(w.data.nbytes + w.indices.nbytes + w.indptr.nbytes)


_NEIGHBOURS: LRU[Any] = layer_cache(32, _matrix_bytes)


def _neighbours(cells: np.ndarray, k: int) -> Any:
    """The Gi* neighbour matrix of this cell set, made once per cell set (windows a minute or a
    role apart, tiles and the GeoJSON of one window share their cells)."""
    key = ("neighbours", k, len(cells), cells.tobytes())
    found = _NEIGHBOURS.get(key)
    if found is None:
        found = emerging.neighbour_matrix(cells.tolist(), k)
        _NEIGHBOURS.put(key, found)
    return found


def warm_cells(cells: list[int], k: int, limit: int = 100_000) -> int:
    """Fill the per-cell tables a layer of these cells uses on first sight (H3 strings, GeoJSON
    geometries, Gi* neighbour disks), so the first uncached layer after a start or an import
    does not pay for them (~0.1 s per 2,000 cells). At most `limit` cells; answers how many."""
    cells = cells[:limit]
    for name in _cell_strings(cells):
        geometry_json(name)
    for cell in cells:
        emerging.disk(cell, k)
    return len(cells)


def _weigh(s: Scored) -> int:
    return 4096 + 2048 * len(s)  # a row's column values ~1 kB, its feature ~0.8 kB


_SCORED: LRU[Scored] = layer_cache(256, _weigh)



def _top_categories(cats: np.ndarray) -> list[list[dict[str, Any]]]:
    """Per row the three most frequent categories (ties by name), from the count matrix. Rows
    with the same top three share one (immutable) list: most cells have a handful of incidents."""
    names = repo.CATEGORY_COLUMNS
    if not len(cats):
        return []
    alpha = np.argsort(np.argsort(names))  # rank of each column's name
    order = np.argsort(-cats * len(names) + alpha[None, :], axis=1)[:, :3]
    counts = np.take_along_axis(cats, order, axis=1)
    top = len(order[0])
    shared: dict[tuple[int, ...], list[dict[str, Any]]] = {}
    out = []
    for key in map(tuple, np.concatenate([order, counts], axis=1).tolist()):
        found = shared.get(key)
        if found is None:
            found = shared[key] = [{"category": names[j], "incidents": n}
                                   for j, n in zip(key[:top], key[top:], strict=True) if n > 0]
        out.append(found)
    return out


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


def build_columns(sums: LayerSums, rows: np.ndarray, patterns: list[str | None], *, res: int,
                  steps: int, step_days: int, settings: Settings,
                  vulnerability: Callable[[int, Settings], float]
                  ) -> tuple[dict[str, list[Any]], str]:
    """Scored layer properties of the given rows of `sums` as COLUMN_KEYS columns (vectorised
    per column), and the trend's step."""
    cell_ids = sums.cells[rows].tolist()
    n = len(cell_ids)
    values = sums.values[rows]

    def col(name: str) -> np.ndarray:
        return values[:, COL[name]]

    vul = (np.array([vulnerability(c, settings) for c in cell_ids])
           if settings.vulnerability_layer else np.ones(n))
    scored = scoring.score_cells(col("harm"), col("crsv_harm"), col("likelihood"), vul, settings)
    counts = [np.rint(col(k)).astype(np.int64).tolist() for k in ("incidents", "fatalities", "crsv")]
    slopes, directions, per = scoring.trend_columns(col("trend_num"), steps, step_days)
    columns = [
        _cell_strings(cell_ids), [res] * n, *(scored[k] for k in SCORED_KEYS), *counts,
        _top_categories(sums.cats[rows]),
        ([sums.top_perps[i] for i in rows.tolist()] if sums.top_perps is not None else
         _top_perpetrators(None if sums.perps is None else [sums.perps[i] for i in rows], n)),
        [patterns[i] for i in rows.tolist()], slopes, directions,
    ]
    return dict(zip(COLUMN_KEYS, columns, strict=True)), per


def build_items(sums: LayerSums, rows: np.ndarray, patterns: list[str | None], *, res: int,
                steps: int, step_days: int, settings: Settings,
                vulnerability: Callable[[int, Settings], float]) -> list[dict[str, Any]]:
    """Scored layer properties for the given rows of `sums`, as one dict per row."""
    columns, per = build_columns(sums, rows, patterns, res=res, steps=steps,
                                 step_days=step_days, settings=settings,
                                 vulnerability=vulnerability)
    scored = Scored(sums, patterns, columns, per, [None] * len(rows))
    return [scored.item(i) for i in range(len(rows))]


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
        weights = _neighbours(sums.cells, settings.hotspot_ring_k)
    patterns: list[str | None] = (
        list(emerging.emerging_patterns(sums.cells.tolist(), sums.series,
                                        k=settings.hotspot_ring_k, alpha=settings.hotspot_alpha,
                                        weights=weights))
        if with_pattern and sums.series is not None else [None] * n)
    features: list[bytes | None] = [None] * n
    same_rows = np.zeros(0, dtype=np.int64)
    if prev is not None and len(prev.sums) and n:
        old = prev.sums
        at = np.minimum(np.searchsorted(old.cells, sums.cells), len(old) - 1)
        same = old.cells[at] == sums.cells
        same &= (old.values[at] == sums.values).all(axis=1) & (old.cats[at] == sums.cats).all(axis=1)
        same &= np.array(prev.patterns, dtype=object)[at] == np.array(patterns, dtype=object)
        if sums.perps is not None and old.perps is not None:
            same &= np.fromiter((old.perps[j] is sums.perps[i] or old.perps[j] == sums.perps[i]
                                 for i, j in enumerate(at.tolist())), dtype=bool, count=n)
        same_rows = np.flatnonzero(same)
        for i, j in zip(same_rows.tolist(), at[same_rows].tolist(), strict=True):
            features[i] = prev.features[j]
    todo = np.setdiff1d(np.arange(n), same_rows)
    fresh, per = build_columns(sums, todo, patterns, res=res, steps=steps, step_days=step_days,
                               settings=settings, vulnerability=vulnerability)
    if prev is None or not len(same_rows):
        columns = fresh
    else:  # the unchanged rows' values are the previous result's: only the others are scored
        from_prev = at[same_rows]
        columns = {}
        for k in COLUMN_KEYS:
            merged = np.empty(n, dtype=object)
            merged[same_rows] = _objects(prev.columns[k])[from_prev]
            if len(todo):
                merged[todo] = _objects(fresh[k])
            columns[k] = merged.tolist()
    result = Scored(sums, patterns, columns, per, features, weights)
    if key is not None and sums.version is not None:
        _SCORED.put(key, result)
    return result


def _objects(values: list[Any]) -> np.ndarray:
    """A 1-D object array of these values (lists stay elements, not a second dimension)."""
    return np.fromiter(values, dtype=object, count=len(values))
