"""Self-exciting space-time point process on the H3 grid (ETAS-style), fitted by EM.

Intensity in cell c at time t (events per day):

    lambda(c, t) = mu * b(c)
                   + sum_{j: t_j < t} sum_m K_m * g_m(ring(c, c_j)) * w_m * exp(-w_m (t - t_j))

* background: total rate mu spread over cells by b, the declustered events smoothed over one
  ring plus a small uniform floor over the country;
* triggering: two exponential time kernels (m = short, long: bursts and the slow memory of an
  armed group's area), each with its own branching weight K_m, rate w_m and a spatial weight
  g_m(d) per cell at ring distance d <= `rings` (sum over the disk = 1).

EM in the manner of Veen & Schoenberg (2008) / Mohler et al. (2011): the E step splits each event
between background and possible parents; the M step re-estimates parameters in closed form.
Only events handed in are used, so the caller controls the training cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.services.forecast.features import Forecast, ring_sizes, rings_around

LOOKBACK_DAYS = 5 * 365.0
SMOOTH = np.array([0.5, 0.5 / 6])  # background: half in the event's cell, half on its ring 1


@dataclass
class EtasFit:
    mu: float
    floor_share: float
    bg_cells: np.ndarray
    bg_weight: np.ndarray  # b(c) for bg_cells; the remaining floor_share is uniform
    n_domain: int
    K: np.ndarray  # (2,)
    w: np.ndarray  # (2,) per day
    g: np.ndarray  # (2, rings+1) weight per cell at ring d
    iterations: int
    loglik: float


def _pairs(ev: pd.DataFrame, rings: int) -> pd.DataFrame:
    """(child i, parent j, ring d, lag) for every earlier event within `rings` and LOOKBACK."""
    r = rings_around(ev["cell"].to_numpy(), rings)
    link = pd.DataFrame({"pcell": r.source, "ccell": r.target, "d": r.dist})
    idx = pd.DataFrame(
        {"cell": ev["cell"].to_numpy(), "i": np.arange(len(ev)), "t": ev["t"].to_numpy()}
    )
    m = link.merge(idx.rename(columns={"cell": "pcell", "i": "j", "t": "tj"}), on="pcell")
    m = m.merge(idx.rename(columns={"cell": "ccell", "t": "ti"}), on="ccell")
    lag = m["ti"].to_numpy() - m["tj"].to_numpy()
    keep = (lag > 0) & (lag <= LOOKBACK_DAYS)
    return pd.DataFrame(
        {
            "i": m["i"].to_numpy()[keep],
            "j": m["j"].to_numpy()[keep],
            "d": m["d"].to_numpy()[keep],
            "lag": lag[keep],
        }
    )


class _Smoother:
    """The background's spatial smoothing as a fixed linear map from per-event weights to
    per-cell mass (half in the event's cell, half on its ring 1), built once per fit."""

    def __init__(self, ev: pd.DataFrame) -> None:
        from scipy.sparse import csr_matrix

        cells = ev["cell"].to_numpy()
        src_cells, ev_src = np.unique(cells, return_inverse=True)
        r = rings_around(src_cells, 1)
        self.cells, tgt = np.unique(r.target, return_inverse=True)
        src = np.searchsorted(src_cells, r.source)
        # (target cell x event) = kernel weight of the event's cell at that target
        link = csr_matrix((SMOOTH[r.dist], (tgt, src)), shape=(len(self.cells), len(src_cells)))
        onehot = csr_matrix(
            (np.ones(len(cells)), (ev_src, np.arange(len(cells)))),
            shape=(len(src_cells), len(cells)),
        )
        self.matrix = (link @ onehot).tocsr()
        # where each event's own cell sits among the targets
        self.ev_pos = np.searchsorted(self.cells, cells)

    def __call__(self, p_bg: np.ndarray, floor_share: float) -> tuple[np.ndarray, np.ndarray]:
        b = self.matrix @ p_bg
        return self.cells, (1.0 - floor_share) * b / b.sum()


def _background(
    ev: pd.DataFrame, p_bg: np.ndarray, floor_share: float
) -> tuple[np.ndarray, np.ndarray]:
    return _Smoother(ev)(p_bg, floor_share)


def fit(
    ev: pd.DataFrame,
    t_end: float,
    n_domain: int,
    rings: int = 2,
    iterations: int = 60,
    floor_share: float = 0.02,
    tol: float = 1e-6,
) -> EtasFit:
    """Maximum likelihood by EM on events before t_end (the caller filters them)."""
    n = len(ev)
    if n == 0:
        raise ValueError("no events to fit")
    t = ev["t"].to_numpy()
    span = max(t_end - float(t.min()), 1.0)
    pr = _pairs(ev, rings)
    pi, pj, pd_, lag = (pr[c].to_numpy() for c in ("i", "j", "d", "lag"))
    remain = np.minimum(t_end - t, LOOKBACK_DAYS)
    sizes = ring_sizes(rings)
    K = np.array([0.2, 0.3])
    w = np.array([1 / 30.0, 1 / 365.0])
    g = np.tile(
        np.exp(-np.arange(rings + 1)) / (np.exp(-np.arange(rings + 1)) * sizes).sum(), (2, 1)
    )
    p_bg = np.full(n, 0.5)
    mu = 0.5 * n / span
    smooth = _Smoother(ev)
    last = -np.inf
    it = 0
    for it in range(1, iterations + 1):  # noqa: B007 (kept for the fit report)
        _, bg_w = smooth(p_bg, floor_share)
        b_ev = bg_w[smooth.ev_pos] + floor_share / n_domain
        lam_bg = mu * b_ev
        trig = K[:, None] * g[:, pd_] * w[:, None] * np.exp(-w[:, None] * lag[None, :])
        lam = lam_bg + np.bincount(pi, weights=trig.sum(axis=0), minlength=n)
        integral = mu * span + (K[:, None] * (1 - np.exp(-w[:, None] * remain[None, :]))).sum()
        ll = float(np.log(lam).sum() - integral)
        p_bg = lam_bg / lam
        p_tr = trig / lam[pi][None, :]
        # M step
        mu = p_bg.sum() / span
        mass = p_tr.sum(axis=1)
        exposure = (1 - np.exp(-w[:, None] * remain[None, :])).sum(axis=1)
        K = np.clip(mass / np.maximum(exposure, 1e-9), 1e-6, 0.95)
        mean_lag = (p_tr * lag[None, :]).sum(axis=1) / np.maximum(mass, 1e-12)
        w = np.clip(1.0 / np.maximum(mean_lag, 1e-3), [1 / 120.0, 1 / 3650.0], [1.0, 1 / 120.0])
        for m in range(2):
            per_d = np.bincount(pd_, weights=p_tr[m], minlength=rings + 1) + 1e-3
            g[m] = per_d / per_d.sum() / sizes
        if abs(ll - last) < tol * max(1.0, abs(ll)):
            break
        last = ll
    bg_cells, bg_w = smooth(p_bg, floor_share)
    return EtasFit(mu, floor_share, bg_cells, bg_w, n_domain, K, w, g, it, last)


def triggered(
    fitted: EtasFit, ev: pd.DataFrame, origin: float, horizon: float, rings: int = 2
) -> pd.DataFrame:
    """Expected direct offspring in [origin, origin + horizon) per cell of the events before
    origin, by kernel (columns `short`, `long`), for every cell within `rings` of one."""
    past = ev[(ev["t"] < origin) & (ev["t"] >= origin - LOOKBACK_DAYS)]
    a = origin - past["t"].to_numpy()
    # expected offspring per parent inside the window, per kernel
    within = fitted.K[:, None] * (
        np.exp(-fitted.w[:, None] * a) - np.exp(-fitted.w[:, None] * (a + horizon))
    )
    r = rings_around(past["cell"].to_numpy(), rings)
    per_parent_cell = (
        pd.DataFrame({"cell": past["cell"].to_numpy(), "k0": within[0], "k1": within[1]})
        .groupby("cell")[["k0", "k1"]]
        .sum()
    )
    src = per_parent_cell.reindex(r.source)
    link = pd.DataFrame(
        {
            "tgt": r.target,
            "short": fitted.g[0, r.dist] * src["k0"].to_numpy(),
            "long": fitted.g[1, r.dist] * src["k1"].to_numpy(),
        }
    )
    return link.groupby("tgt")[["short", "long"]].sum()


def forecast(
    fitted: EtasFit,
    ev: pd.DataFrame,
    origin: float,
    horizon: float,
    rings: int = 2,
    harm_per_incident: pd.Series | None = None,
    default_harm: float = 0.0,
) -> Forecast:
    """Expected incidents in [origin, origin + horizon) per cell (direct triggering and
    background; offspring of offspring inside the window are left out)."""
    tr = triggered(fitted, ev, origin, horizon, rings)
    trig = tr["short"] + tr["long"]
    floor = fitted.mu * horizon * fitted.floor_share / fitted.n_domain
    bg = pd.Series(fitted.bg_weight * fitted.mu * horizon, index=fitted.bg_cells)
    total = trig.add(bg, fill_value=0.0) + floor
    cells = total.index.to_numpy(np.int64)
    expected = total.to_numpy()
    return Forecast.from_rates("etas", cells, expected, floor, harm_per_incident, default_harm)
