"""Emerging hot-spot analysis on the H3 space-time cube (cells x time steps).

Per time step, Getis-Ord Gi* over H3 neighbours (ring k, the cell itself included) gives a
z-score per cell; p-values are corrected per step with Benjamini-Hochberg (scipy). The
Mann-Kendall test on each cell's Gi* z-score series gives the trend of clustering intensity.
Each cell is then classed with Esri's published definitions (Emerging Hot Spot Analysis).

Gi* and Mann-Kendall are evaluated for all cells at once with numpy/scipy.sparse, because a
per-cell call of esda.G_Local / pymannkendall costs ~1 s for 10,000 cells; the unit tests check
both against esda and pymannkendall on random data, so the formulas are the libraries', only
vectorised.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain

import numpy as np
from h3.api import basic_int as h3i
from scipy import sparse
from scipy.stats import norm

NO_PATTERN = "no pattern"
HOT_CLASSES = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
               "oscillating", "historical")
PATTERNS = (*(f"{c} hot spot" for c in HOT_CLASSES), *(f"{c} cold spot" for c in HOT_CLASSES),
            NO_PATTERN)


@lru_cache(maxsize=200_000)
def disk(cell: int, k: int) -> tuple[int, ...]:
    return tuple(h3i.grid_disk(cell, k))  # the grid never changes: safe to cache


def neighbour_matrix(cells: list[int], k: int) -> sparse.csr_matrix:
    """Binary weights: w_ij = 1 when j is within H3 ring k of i (i itself included: Gi*).
    Vectorised: every disk member is looked up in the sorted cell array at once."""
    n = len(cells)
    if n == 0:
        return sparse.csr_matrix((0, 0))
    disks = [disk(c, k) for c in cells]
    lengths = np.fromiter((len(d) for d in disks), dtype=np.int64, count=n)
    members = np.fromiter(chain.from_iterable(disks), dtype=np.int64, count=int(lengths.sum()))
    rows = np.repeat(np.arange(n), lengths)
    arr = np.asarray(cells, dtype=np.int64)
    order = np.argsort(arr)
    pos = np.minimum(np.searchsorted(arr[order], members), n - 1)
    found = arr[order][pos] == members
    cols = order[pos[found]]
    data = np.ones(int(found.sum()), dtype=np.float64)
    return sparse.csr_matrix((data, (rows[found], cols)), shape=(n, n))


def gi_star(values: np.ndarray, w: sparse.csr_matrix) -> np.ndarray:
    """Gi* z-scores (Getis & Ord 1995, binary weights incl. self) for each column (time step)."""
    n = values.shape[0]
    if n < 2:
        return np.zeros_like(values, dtype=np.float64)
    x = values.astype(np.float64)
    mean = x.mean(axis=0)
    # x.std(ddof=0), never NaN: E[x²] - mean² can come out a hair below zero in floating point.
    sd = x.std(axis=0)
    wi = np.asarray(w.sum(axis=1)).ravel()[:, None]
    lag = w @ x
    denom = sd[None, :] * np.sqrt(np.maximum(n * wi - wi * wi, 0.0) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (lag - mean[None, :] * wi) / denom
    return np.where(np.isfinite(z), z, 0.0)


def significant(z: np.ndarray, alpha: float) -> np.ndarray:
    """Bins significant after a per-step Benjamini-Hochberg false-discovery-rate correction."""
    p = 2.0 * norm.sf(np.abs(z))
    return bh_adjusted(p) <= alpha


def bh_adjusted(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values of each column at once: scipy's
    `false_discovery_control(method="bh")` (p_(i) m / i, cumulative minimum from the largest,
    clipped to 1), vectorised over columns (one call per step cost ~4 ms each)."""
    m = p.shape[0]
    if m == 0:
        return p.copy()
    order = np.argsort(p, axis=0, kind="stable")
    ps = np.take_along_axis(p, order, axis=0) * (m / np.arange(1, m + 1, dtype=np.float64))[:, None]
    ps = np.minimum.accumulate(ps[::-1], axis=0)[::-1]
    out = np.empty_like(ps)
    np.put_along_axis(out, order, np.clip(ps, 0.0, 1.0), axis=0)
    return out


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall S, z and two-sided p for every row (the original test, ties corrected)."""
    n = series.shape[1]
    chunk = max(1, 4_000_000 // max(n * n, 1))  # bounds the rows x n x n scratch arrays
    parts = [_mann_kendall(series[i:i + chunk]) for i in range(0, series.shape[0], chunk)]
    if not parts:
        empty = np.zeros(0)
        return empty, empty, empty
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]


def _mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = series.astype(np.float64)
    rows, n = x.shape
    first, second = np.triu_indices(n, k=1)
    s = np.sign(x[:, second] - x[:, first]).sum(axis=1)  # sum over i < j of sign(x_j - x_i)
    # Tie groups from each sorted row: a label per run of equal values, sizes by bincount.
    ordered = np.sort(x, axis=1)
    starts = np.ones((rows, n), dtype=np.int64)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    labels = np.cumsum(starts, axis=1) - 1 + (np.arange(rows) * n)[:, None]
    t = np.bincount(labels.ravel(), minlength=rows * n).reshape(rows, n).astype(np.float64)
    ties = (t * (t - 1) * (2 * t + 5)).sum(axis=1)  # sum over tie groups of t(t-1)(2t+5)
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    z = np.where(np.isfinite(z), z, 0.0)
    return s, z, 2.0 * norm.sf(np.abs(z))


def _side(same: np.ndarray, other: np.ndarray, rising: np.ndarray, falling: np.ndarray,
          kind: str) -> np.ndarray:
    """Esri's classes for one side ('hot': same = hot bins, other = cold bins), all cells at once;
    '' where the side has no pattern. Conditions are checked in order (np.select)."""
    t = same.shape[1]
    final = same[:, -1]
    mostly = same.sum(axis=1) >= 0.9 * t
    rev = same[:, ::-1]
    run = np.where(rev.all(axis=1), t, rev.argmin(axis=1))  # trailing run of `same` bins
    before_run = same.sum(axis=1) - run > 0
    conditions = [
        ~final & mostly,
        final & mostly & rising,
        final & mostly & falling,
        final & mostly,
        # A history of the opposite kind wins over new/consecutive: the place switched sides.
        final & other[:, :-1].any(axis=1),
        final & ~same[:, :-1].any(axis=1),
        final & (run >= 2) & ~before_run,
        final,
    ]
    names = ["historical", "intensifying", "diminishing", "persistent", "oscillating", "new",
             "consecutive", "sporadic"]
    return np.select(conditions, [f"{n} {kind} spot" for n in names], default="")


def classify(z: np.ndarray, sig: np.ndarray, alpha: float) -> list[str]:
    """Pattern class per cell from its Gi* z-scores and their significance (cells x steps).
    The trend of clustering intensity is Mann-Kendall on each cell's z-score series."""
    hot = sig & (z > 0)
    cold = sig & (z < 0)
    # The trend only decides between intensifying / persistent / diminishing, i.e. for cells hot
    # (or cold) in >= 90 % of the steps; testing only those gives the same classes, much faster.
    t = z.shape[1]
    needed = (hot.sum(axis=1) >= 0.9 * t) | (cold.sum(axis=1) >= 0.9 * t)
    mk_z, mk_p = np.zeros(z.shape[0]), np.ones(z.shape[0])
    if needed.any():
        _, mk_z[needed], mk_p[needed] = mann_kendall(z[needed])
    up, down = (mk_p < alpha) & (mk_z > 0), (mk_p < alpha) & (mk_z < 0)
    hot_label = _side(hot, cold, up, down, "hot")
    cold_label = _side(cold, hot, down, up, "cold")
    out = np.where(hot_label != "", hot_label, np.where(cold_label != "", cold_label, NO_PATTERN))
    return [str(x) for x in out]


def emerging_patterns(cells: list[int], series: np.ndarray, *, k: int = 1,
                      alpha: float = 0.05, weights: sparse.csr_matrix | None = None) -> list[str]:
    """Pattern class of each cell given its per-step values (rows align with `cells`).
    `weights`: the neighbour_matrix(cells, k) if the caller already has it."""
    if len(cells) == 0:
        return []
    if len(cells) < 3 or series.shape[1] < 2:
        return [NO_PATTERN] * len(cells)
    z = gi_star(series, neighbour_matrix(cells, k) if weights is None else weights)
    return classify(z, significant(z, alpha), alpha)
