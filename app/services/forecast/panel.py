"""Cell features at any past time from one pass over the events: the ground of the learned models.

`Panel(past)` indexes, once per forecast origin, every cell with an event before the origin and
the (source, target, ring distance) pairs within two rings of them. `Panel.at(tau)` then gives,
for the cells within one ring of an event before `tau`, every feature computed from events
strictly before `tau`, and `Panel.target(tau, end, cells)` the incidents in [tau, end). Each
feature is a bincount over index arrays, so the 32 past origins a model trains on cost
milliseconds; `at` is memoised, so the models of one origin share the work.

Feature families (the models pick their columns, see `learned.py`):
* counts in windows (30 days … all history) and decayed counts at scales from a month to ten
  years, in the cell and summed over its ring-1 and ring-2 neighbours;
* decayed harm; days since the last incident; a trend (last quarter against the year's mean);
* ring distance to the nearest incident of the last quarter, year and all history;
* the category and perpetrator mix over the cell's long memory;
* the share of the cell's incidents located only to within 25 km or more (admin-centroid
  points: such cells keep receiving coarse reports);
* the area's activity (incidents in the last 91 and 365 days), and that of the cell's parents
  one and two resolutions up (7 and 49 cells: the district around it);
* optionally a self-exciting (ETAS) intensity: the expected direct offspring in the target
  window of the events before tau, with kernels fitted before the forecast origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import h3
import numpy as np
import pandas as pd

from app.services.forecast.features import CATEGORIES, PERPETRATORS, rings_around

SCALES = (30.0, 91.0, 182.0, 365.0, 730.0, 1460.0, 3650.0)
RING_SCALES = (91.0, 365.0, 1460.0)
MIX_SCALE = 1460.0
COARSE_RADIUS_M = 25_000.0
FAR = 3.0  # "no incident within two rings"
SINCE_CAP = 7300.0
ETAS_LOOKBACK_DAYS = 5 * 365.0
REGION_LEVELS = (1, 2)  # parents one and two resolutions up (7 and 49 cells)


@lru_cache(maxsize=500_000)
def _parent(cell: int, res: int) -> int:
    return h3.str_to_int(h3.cell_to_parent(h3.int_to_str(cell), res))


@dataclass
class Rows:
    """Feature rows for candidate cells at one time; `cells` sorted ascending; `X` has one
    column per name in `names`."""

    cells: np.ndarray
    X: np.ndarray
    names: tuple[str, ...]

    def col(self, name: str) -> np.ndarray:
        return self.X[:, self.names.index(name)]

    def select(self, names: tuple[str, ...]) -> np.ndarray:
        return self.X[:, [self.names.index(n) for n in names]]


@dataclass(frozen=True, eq=False)
class EtasKernels:
    """What the panel needs of a fitted ETAS model: per kernel K, rate w and g(d) per cell."""

    K: np.ndarray
    w: np.ndarray
    g: np.ndarray

    @property
    def key(self) -> tuple[float, ...]:
        return tuple(np.concatenate([self.K, self.w, self.g.ravel()]).tolist())


class Panel:
    """Events before one origin, indexed by cell once; features at any earlier time."""

    def __init__(self, past: pd.DataFrame, rings: int = 2) -> None:
        self.rings = rings
        self.t = past["t"].to_numpy(float)
        cells = past["cell"].to_numpy(np.int64)
        self.src_cells, self.ev_src = np.unique(cells, return_inverse=True)
        self.n_src = len(self.src_cells)
        self.harm = past["harm"].to_numpy(float)
        radius = past["radius"].to_numpy(float) if "radius" in past else np.zeros(len(past))
        self.coarse = radius >= COARSE_RADIUS_M
        cat = past["category"].to_numpy().astype(str)
        perp = past["perpetrator_type"].to_numpy().astype(str)
        self.cat = {c: cat == c for c in CATEGORIES}
        self.perp = {p: perp == p for p in PERPETRATORS}
        r = rings_around(self.src_cells, rings)
        self.targets, self.pair_tgt = np.unique(r.target, return_inverse=True)
        self.pair_src = np.searchsorted(self.src_cells, r.source)
        self.pair_d = r.dist
        self._by_d = {d: self.pair_d == d for d in range(rings + 1)}
        # position of each target among the sources (-1: no incident ever)
        self.tgt_src = np.full(len(self.targets), -1)
        if self.n_src:
            pos = np.clip(np.searchsorted(self.src_cells, self.targets), 0, self.n_src - 1)
            hit = self.src_cells[pos] == self.targets
            self.tgt_src[hit] = pos[hit]
        self._base: dict[float, tuple[Rows, np.ndarray]] = {}
        self._memo: dict[tuple[float, tuple[float, ...], float], Rows] = {}
        self._windows: dict[tuple[float, float], tuple[np.ndarray, tuple[float, int]]] = {}
        # regions: each cell's parent at coarser resolutions (for the area-wide tempo around it)
        self.regions: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}
        if self.n_src:
            res = h3.get_resolution(h3.int_to_str(int(self.src_cells[0])))
            for up in REGION_LEVELS:
                r = max(res - up, 0)
                parents = np.array([_parent(int(c), r)
                                    for c in np.concatenate([self.src_cells, self.targets])])
                uniq, inv = np.unique(parents, return_inverse=True)
                self.regions[up] = (inv[: self.n_src], inv[self.n_src:], len(uniq))

    # per-source (event cell) sums, then read at the targets ------------------------------
    def _src(self, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(self.ev_src[mask], weights=w, minlength=self.n_src).astype(float)

    def _own(self, per_src: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.targets))
        has = self.tgt_src >= 0
        out[has] = per_src[self.tgt_src[has]]
        return out

    def _region(self, per_src: np.ndarray, up: int) -> np.ndarray:
        """Sum of per-source values over each target's parent `up` resolutions coarser."""
        src_g, tgt_g, n = self.regions[up]
        return np.bincount(src_g, weights=per_src, minlength=n)[tgt_g]

    def _ring(self, per_src: np.ndarray, d: int) -> np.ndarray:
        sel = self._by_d[d]
        return np.bincount(
            self.pair_tgt[sel], weights=per_src[self.pair_src[sel]], minlength=len(self.targets)
        )

    def at(self, tau: float, etas: EtasKernels | None = None, horizon: float = 0.0) -> Rows:
        """Features at tau for the cells within one ring of an incident before tau. The
        features without ETAS are computed once per tau and shared by every model of the
        origin; the ETAS columns (which depend on the kernels and horizon) are added to them."""
        if tau not in self._base:
            if len(self._base) > 128:
                self._base.clear()
                self._memo.clear()
            self._base[tau] = self._at(tau)
        base, idx = self._base[tau]
        if etas is None:
            return base
        key = (tau, etas.key, horizon)
        if key not in self._memo:
            if len(self._memo) > 128:
                self._memo.clear()
            m = self.t < tau
            age = np.where(m, tau - self.t, np.inf)
            cols = self._etas(etas, m, age, horizon, idx)
            self._memo[key] = Rows(base.cells, np.column_stack([base.X, *cols.values()]),
                                   base.names + tuple(cols))
        return self._memo[key]

    def window(self, tau: float, horizon: float) -> tuple[np.ndarray, tuple[float, int]]:
        """For the rows at tau: incidents per row in [tau, tau + horizon), and (incidents
        outside the rows, distinct cells they hit); memoised, shared by the models."""
        key = (tau, horizon)
        if key not in self._windows:
            cells = self.at(tau).cells
            y = self.target(tau, tau + horizon, cells)
            hit_cells = self.events_between(tau, tau + horizon)
            pos = np.clip(np.searchsorted(cells, hit_cells), 0, max(len(cells) - 1, 0))
            inside = (cells[pos] == hit_cells) if len(cells) else np.zeros(len(hit_cells), bool)
            out = hit_cells[~inside]
            self._windows[key] = (y, (float(len(out)), len(np.unique(out))))
        return self._windows[key]

    def _at(self, tau: float) -> tuple[Rows, np.ndarray]:
        m = self.t < tau
        age = np.where(m, tau - self.t, np.inf)  # later events weigh nothing, overflow nothing
        n_all = self._src(m)
        seen = (n_all > 0).astype(float)
        idx = np.flatnonzero(self._own(seen) + self._ring(seen, 1) > 0)

        def own(v: np.ndarray) -> np.ndarray:
            return self._own(v)[idx]

        def ring(v: np.ndarray, d: int) -> np.ndarray:
            return self._ring(v, d)[idx]

        out: dict[str, np.ndarray] = {"n_all": own(n_all)}
        for d in range(1, self.rings + 1):
            out[f"ring{d}_n_all"] = ring(n_all, d)
        windows: dict[int, np.ndarray] = {}
        for w in (30, 91, 365, 730):
            windows[w] = self._src(m & (age <= w))
            out[f"n_{w}d"] = own(windows[w])
        for w in (91, 365):
            for d in range(1, self.rings + 1):
                out[f"ring{d}_n_{w}d"] = ring(windows[w], d)
        for s in SCALES:
            v = self._src(m, np.exp(-age / s))
            out[f"dc_{int(s)}"] = own(v)
            if s in RING_SCALES:
                for d in range(1, self.rings + 1):
                    out[f"ring{d}_dc_{int(s)}"] = ring(v, d)
        for up in REGION_LEVELS if self.n_src else ():
            for w in (91, 365):
                out[f"region{up}_n_{w}d"] = self._region(windows[w], up)[idx]
            out[f"region{up}_n_all"] = self._region(n_all, up)[idx]
        dc180 = self._src(m, np.exp(-age / 180.0))
        out["n_decay_180"] = own(dc180)
        for d in range(1, self.rings + 1):
            out[f"ring{d}_n_decay_180"] = ring(dc180, d)
        out["harm_decay_180"] = own(self._src(m, self.harm * np.exp(-age / 180.0)))
        out["dh_365"] = own(self._src(m, self.harm * np.exp(-age / 365.0)))
        for name, hit in (("90d", windows[91] > 0), ("365d", windows[365] > 0), ("all", n_all > 0)):
            h = hit.astype(float)
            near = np.full(len(idx), FAR)
            for d in range(self.rings, 0, -1):
                near = np.where(ring(h, d) > 0, float(d), near)
            out[f"nearest_{name}"] = np.where(own(h) > 0, 0.0, near)
        last = np.full(self.n_src, np.nan)
        if m.any():
            order = np.argsort(self.t[m], kind="stable")
            last[self.ev_src[m][order]] = self.t[m][order]  # the latest write wins
        since = tau - own(last)
        out["days_since_last"] = np.where(np.isnan(since), SINCE_CAP, np.minimum(since, SINCE_CAP))
        out["trend"] = out["n_91d"] - out["n_365d"] / 4.0
        recent = m & (age <= 365.0)
        for c in CATEGORIES[:2]:
            out[f"n_365d_{c}"] = own(self._src(recent & self.cat[c]))
        for p in PERPETRATORS:
            out[f"n_365d_{p}"] = own(self._src(recent & self.perp[p]))
        mix_w = np.exp(-age / MIX_SCALE)
        tot = np.maximum(own(self._src(m, mix_w)), 1e-9)
        for c, sel in self.cat.items():
            out[f"share_{c}"] = own(self._src(m & sel, mix_w)) / tot
        for p, sel in self.perp.items():
            out[f"share_{p}"] = own(self._src(m & sel, mix_w)) / tot
        out["share_coarse"] = own(self._src(m & self.coarse)) / np.maximum(out["n_all"], 1.0)
        out["dc_coarse_1460"] = own(self._src(m & self.coarse, np.exp(-age / 1460.0)))
        out["country_n_91d"] = np.full(len(idx), float((m & (age <= 91.0)).sum()))
        out["country_n_365d"] = np.full(len(idx), float(recent.sum()))
        names = tuple(out)
        X = np.empty((len(idx), len(names)))
        for j, n in enumerate(names):
            X[:, j] = out[n]
        return Rows(self.targets[idx], X, names), idx

    def _etas(
        self, k: EtasKernels, m: np.ndarray, age: np.ndarray, horizon: float, idx: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Expected direct offspring in [tau, tau + horizon) by kernel: K (1 - e^{-w h}) times the
        g(d)-weighted ring sums of the events' decayed weights e^{-w age} (age <= lookback)."""
        look = m & (age <= ETAS_LOOKBACK_DAYS)
        out = {}
        for j, name in enumerate(("etas_short", "etas_long")):
            v = self._src(look, np.exp(-k.w[j] * age))
            total = k.g[j, 0] * self._own(v)
            for d in range(1, self.rings + 1):
                total = total + k.g[j, d] * self._ring(v, d)
            out[name] = k.K[j] * (1.0 - np.exp(-k.w[j] * horizon)) * total[idx]
        return out

    def target(self, tau: float, end: float, cells: np.ndarray) -> np.ndarray:
        """Incidents in [tau, end) per cell of `cells` (sorted). The panel holds only events
        before its origin, so a target window can never reach past it."""
        if not self.n_src:
            return np.zeros(len(cells))
        per_src = self._src((self.t >= tau) & (self.t < end))
        pos = np.clip(np.searchsorted(self.src_cells, cells), 0, self.n_src - 1)
        return np.where(self.src_cells[pos] == cells, per_src[pos], 0.0)

    def events_between(self, tau: float, end: float) -> np.ndarray:
        """Cells of the incidents in [tau, end)."""
        sel = (self.t >= tau) & (self.t < end)
        return self.src_cells[self.ev_src[sel]]
