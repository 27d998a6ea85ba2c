"""Per-cell sums of a threat-layer query, kept up to date by applying the incident change log.

The first hotspot request after a write used to re-aggregate the whole window. Every per-cell
term of the layer (counts, credible decayed sums, the trend numerator, per-category and
per-perpetrator counts, the per-step series) is a plain sum over incidents, so sums read at data
version V0 plus the signed sums of the changes logged between V0 and V (migration 0007) are the
sums at V. Those base sums are cached per query (without the version); a request reads only the
delta, which is empty or a handful of rows, and falls back to a full aggregation when the log
cannot bridge the gap (never cached, pruned, truncated, or an import batch too large to log).

The result is exact up to floating-point summation order (a few ulps); counts are exact.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from app.domain import ThreatTerms
from app.repositories import hotspots as repo
from app.services.geo.h3cells import valid_cell
from app.services.threat.cache import LRU, layer_cache

NUMERIC = ("incidents", "fatalities", "crsv", "likelihood", "harm", "crsv_harm", "trend_num")
COL = {name: i for i, name in enumerate(NUMERIC)}


@dataclass(frozen=True)
class LayerSums:
    """Column-wise per-cell sums, cells sorted ascending. Treat as immutable (it is cached)."""

    cells: np.ndarray            # int64 (n,)
    values: np.ndarray           # float64 (n, len(NUMERIC))
    cats: np.ndarray             # int64 (n, len(CATEGORY_COLUMNS))
    series: np.ndarray | None    # float64 (n, steps): credible count per step, oldest first
    perps: list[dict[str, int]] | None  # per cell: perpetrator name -> incidents
    version: int | None
    # Per cell the three most frequent perpetrators, when the producer computed them already
    # (the event store does, vectorised); else they are derived from `perps`.
    top_perps: list[list[dict[str, Any]]] | None = None

    def __len__(self) -> int:
        return len(self.cells)

    def column(self, name: str) -> np.ndarray:
        return self.values[:, COL[name]]

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]], steps: int, *, with_series: bool,
                  with_perpetrators: bool, version: int | None) -> LayerSums:
        rows = sorted((r for r in rows if valid_cell(r["cell"])), key=lambda r: r["cell"])
        n = len(rows)
        cells = np.fromiter((r["cell"] for r in rows), dtype=np.int64, count=n)
        values = np.array([[float(r[k] or 0) for k in NUMERIC] for r in rows],
                          dtype=np.float64).reshape(n, len(NUMERIC))
        cats = np.array([[r[f"cat_{c}"] or 0 for c in repo.CATEGORY_COLUMNS] for r in rows],
                        dtype=np.int64).reshape(n, len(repo.CATEGORY_COLUMNS))
        series = None
        if with_series:
            series = np.zeros((n, steps))
            lengths = [len(r["series_ago"]) for r in rows]
            at = np.repeat(np.arange(n), lengths)
            ago = np.fromiter((a for r in rows for a in r["series_ago"]), dtype=np.int64)
            w = np.fromiter((float(x) for r in rows for x in r["series_w"]), dtype=np.float64)
            np.add.at(series, (at, steps - 1 - ago), w)
        perps = None
        if with_perpetrators:
            perps = [dict(zip(r.get("perp_names") or [], r.get("perp_counts") or [], strict=True))
                     for r in rows]
        return cls(cells, values, cats, series, perps, version)

    def apply(self, delta: LayerSums) -> LayerSums:
        """These sums plus a signed delta; cells left with no incident are dropped."""
        cells = np.union1d(self.cells, delta.cells)
        mine, theirs = np.searchsorted(cells, self.cells), np.searchsorted(cells, delta.cells)

        def merged(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
            if a is None or b is None:
                return None
            # A base from the event store may hold integer series, a logged delta floats.
            out = np.zeros((len(cells), a.shape[1]), dtype=np.result_type(a.dtype, b.dtype))
            out[mine] = a
            out[theirs] += b
            return out

        values, cats = merged(self.values, delta.values), merged(self.cats, delta.cats)
        series = merged(self.series, delta.series)
        perps: list[dict[str, int]] | None = None
        if self.perps is not None and delta.perps is not None:
            perps = [{}] * len(cells)
            for i, p in zip(mine, self.perps, strict=True):
                perps[i] = p
            for i, p in zip(theirs, delta.perps, strict=True):
                changed = dict(perps[i])
                for name, count in p.items():
                    changed[name] = changed.get(name, 0) + count
                perps[i] = {k: v for k, v in changed.items() if v > 0}
        assert values is not None and cats is not None
        keep = values[:, COL["incidents"]] > 0
        return LayerSums(cells[keep], values[keep], cats[keep],  # top_perps: derived again
                         None if series is None else series[keep],
                         None if perps is None else [p for p, k in zip(perps, keep, strict=True)
                                                     if k],
                         delta.version)


def _weigh(s: LayerSums) -> int:
    size = s.values.nbytes + s.cats.nbytes + s.cells.nbytes
    size += 0 if s.series is None else s.series.nbytes
    return 1024 + size + (0 if s.perps is None else 200 * len(s.perps))


_SUMS: LRU[LayerSums] = layer_cache(256, _weigh)
# How requests were answered (observability and tests): from the log, or by a full aggregation.
STATS = {"delta": 0, "store": 0, "full": 0}


async def layer_sums(session: Any, key: Hashable | None, f: repo.CellFilter, spec: ThreatTerms, *,
                     steps: int, with_series: bool, with_perpetrators: bool,
                     from_store: Callable[[], Awaitable[LayerSums | None]] | None = None
                     ) -> LayerSums:
    """The query's per-cell sums now: cached base + logged delta when the log bridges the gap,
    else the in-process event store (`from_store`, None when it cannot answer exactly), else a
    full aggregation in SQL. The result becomes the new base. `key=None`: no cache at all."""
    shape: dict[str, Any] = {"steps": steps, "with_series": with_series,
                             "with_perpetrators": with_perpetrators}
    base = _SUMS.get(key) if key is not None else None
    if base is not None and base.version is not None:
        delta = await repo.cell_sums(session, f, spec, since=base.version, **shape)
        if (delta.version is not None and delta.log_since is not None
                and base.version >= delta.log_since):
            STATS["delta"] += 1
            if not delta.rows:
                sums = base
            else:
                sums = base.apply(LayerSums.from_rows(
                    delta.rows, steps, with_series=with_series,
                    with_perpetrators=with_perpetrators, version=delta.version))
            return _kept(key, sums, delta.version, delta.dirty)
    if from_store is not None:
        stored = await from_store()
        if stored is not None and stored.version is not None:
            STATS["store"] += 1
            return _kept(key, stored, stored.version, False)
    STATS["full"] += 1
    full = await repo.cell_sums(session, f, spec, **shape)
    sums = LayerSums.from_rows(full.rows, steps, with_series=with_series,
                               with_perpetrators=with_perpetrators, version=full.version)
    return _kept(key, sums, full.version, full.dirty)


def _kept(key: Hashable | None, sums: LayerSums, version: int | None, dirty: bool) -> LayerSums:
    """Sums labelled with the version they were read at, cached; or, read by a transaction that
    has written (its uncommitted state has no version of its own), unlabelled and not cached."""
    if dirty or version is None or key is None:
        return replace(sums, version=None)
    if sums.version != version:
        sums = replace(sums, version=version)
    _SUMS.put(key, sums)
    return sums

