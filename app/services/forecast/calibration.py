"""Calibrating P(at least one incident) from a model's expected count.

A Poisson count gives P(>=1) = 1 - exp(-mu). Clustered incidents are over-dispersed, so that is
over-confident where mu is large. Two corrections, each fitted on out-of-time pairs (expected
count, outcome) from periods that end at or before the forecast origin (the caller guarantees
it; see count_model):

* `negbin`: a negative-binomial count with dispersion alpha and a mean scale s,
  P(>=1) = 1 - (1 + alpha s mu)^(-1/alpha), both fitted by maximum likelihood of the outcomes;
* `isotonic`: a monotone non-parametric map mu -> P(>=1) (scikit-learn's IsotonicRegression).

Both are non-decreasing in mu, so they never change a ranking (PAI, harm capture), only Brier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from sklearn.isotonic import IsotonicRegression

Calibrator = Callable[[np.ndarray], np.ndarray]
CALIBRATIONS = ("poisson", "negbin", "isotonic")
_EPS = 1e-12


def poisson(mu: np.ndarray) -> np.ndarray:
    return 1.0 - np.exp(-np.clip(mu, 0.0, None))


@dataclass(frozen=True)
class NegBin:
    alpha: float
    scale: float

    def __call__(self, mu: np.ndarray) -> np.ndarray:
        m = self.scale * np.clip(mu, 0.0, None)
        if self.alpha < 1e-6:
            return poisson(m)
        return 1.0 - np.exp(-np.log1p(self.alpha * m) / self.alpha)


def fit_negbin(mu: np.ndarray, hit: np.ndarray, weight: np.ndarray) -> NegBin:
    """Dispersion and mean scale maximising the weighted Bernoulli likelihood of hit = y >= 1."""

    def nll(theta: np.ndarray) -> float:
        p = np.clip(NegBin(float(np.exp(theta[0])), float(np.exp(theta[1])))(mu), _EPS, 1 - _EPS)
        return float(-(weight * (hit * np.log(p) + (1 - hit) * np.log1p(-p))).sum())

    best = minimize(
        nll, x0=np.array([0.0, 0.0]), method="L-BFGS-B", bounds=[(-8.0, 5.0), (-3.0, 3.0)]
    )
    return NegBin(float(np.exp(best.x[0])), float(np.exp(best.x[1])))


@dataclass(frozen=True)
class Isotonic:
    model: IsotonicRegression

    def __call__(self, mu: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(np.clip(mu, 0.0, None)), dtype=float)


def fit_isotonic(mu: np.ndarray, hit: np.ndarray, weight: np.ndarray) -> Isotonic:
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    iso.fit(np.clip(mu, 0.0, None), hit, sample_weight=weight)
    return Isotonic(iso)


def fit_all(mu: np.ndarray, y: np.ndarray, weight: np.ndarray) -> dict[str, Calibrator]:
    """Every calibration of P(>=1), fitted on out-of-time (mu, count) pairs."""
    hit = (np.asarray(y) > 0).astype(float)
    return {
        "poisson": poisson,
        "negbin": fit_negbin(mu, hit, weight),
        "isotonic": fit_isotonic(mu, hit, weight),
    }


# --- rolling, out-of-time calibration of a model's forecasts ----------------------------------
# Fitted on the forecasts the model itself made at earlier origins (each trained only on data
# before its own origin) and what happened next, so the map sees exactly the model it corrects.

Z80 = (0.1, 0.9)  # the 80 % interval: 10th and 90th percentiles


def _nb_logpmf(y: np.ndarray, m: np.ndarray, alpha: float) -> np.ndarray:
    from scipy.special import gammaln

    m = np.maximum(m, 1e-12)
    if alpha < 1e-8:
        return y * np.log(m) - m - gammaln(y + 1)
    r = 1.0 / alpha
    return (
        gammaln(y + r) - gammaln(r) - gammaln(y + 1)
        + r * np.log(r / (r + m)) + y * np.log(m / (r + m))
    )


def fit_dispersion(m: np.ndarray, y: np.ndarray, weight: np.ndarray) -> float:
    """Negative-binomial dispersion alpha of counts y around means m (maximum likelihood)."""
    from scipy.optimize import minimize_scalar

    def nll(log_a: float) -> float:
        return float(-(weight * _nb_logpmf(y, m, float(np.exp(log_a)))).sum())

    best = minimize_scalar(nll, bounds=(-9.0, 4.0), method="bounded")
    return float(np.exp(best.x)) if nll(best.x) < nll(-9.0) - 1e-9 else 0.0


def nb_quantile(mean: np.ndarray, alpha: float | np.ndarray, q: float) -> np.ndarray:
    """q-quantile (q <= 0.9) of a negative binomial (Poisson where alpha is ~0) with the given means."""
    from scipy.stats import nbinom
    from scipy.stats import poisson as pois

    mean = np.maximum(np.asarray(mean, float), 1e-12)
    a = np.broadcast_to(np.asarray(alpha, float), mean.shape)
    out = np.zeros(mean.shape)
    # P(0) >= exp(-mean) for any dispersion, so below this mean every quantile up to 0.9 is 0
    # (most of an area's cells): only the rest need the distribution.
    live = mean > 0.1
    po = live & (a <= 1e-8)
    nb = live & (a > 1e-8)
    if po.any():
        out[po] = pois.ppf(q, mean[po])
    if nb.any():
        r = 1.0 / a[nb]
        out[nb] = nbinom.ppf(q, r, r / (r + mean[nb]))
    return out


def poisson_total_interval(mean: np.ndarray) -> tuple[float, float, float]:
    total = float(np.clip(mean, 0.0, None).sum())
    lo, hi = (float(nb_quantile(np.array([total]), 0.0, q)[0]) for q in Z80)
    return total, lo, hi


@dataclass(frozen=True)
class Rolling:
    """A model's out-of-time calibration: expected incidents = scale x mu; P(>=1) = the map
    named by `p_map` (the isotonic map of mu, or a logistic "Platt" map of log mu); counts per
    cell ~ NegBin(scale mu, alpha); the area's total shares a common multiplicative swing with
    variance alpha_common (cells move together in a bad quarter).

    Both maps are fitted on the same pairs and the backtest scores the one not served beside
    the served one. The isotonic map is the default: Platt's two parameters are fitted mostly
    by the area's many near-zero cells, and where the curve bends in the tail (South Sudan) it
    under-states the hottest cells badly (docs/forecast.md, "Calibration")."""

    scale: float
    iso_x: tuple[float, ...]
    iso_y: tuple[float, ...]
    alpha: float
    alpha_common: float
    origins: int
    platt: tuple[float, float] | None = None  # (intercept, slope) on log(mu + PLATT_EPS)
    p_map: str = "isotonic"  # which map `p` serves: "isotonic" or "platt"

    def mean(self, mu: np.ndarray) -> np.ndarray:
        """Calibrated expected incidents from the model's raw expected incidents."""
        return self.scale * np.clip(mu, 0.0, None)

    def p(self, mu: np.ndarray) -> np.ndarray:
        """P(>=1) from the model's raw expected incidents."""
        if self.p_map == "platt":
            return self.p_platt(mu)
        return self.p_isotonic(mu)

    def p_platt(self, mu: np.ndarray) -> np.ndarray:
        """P(>=1) from the Platt map (the isotonic one where Platt could not be fitted)."""
        if self.platt is None:
            return self.p_isotonic(mu)
        return platt_p(self.platt, mu)

    def p_isotonic(self, mu: np.ndarray) -> np.ndarray:
        """P(>=1) from the isotonic map alone (Poisson when there is none)."""
        if not self.iso_x:
            return poisson(self.mean(mu))
        return np.clip(np.interp(np.clip(mu, 0.0, None), self.iso_x, self.iso_y), 0.0, 1.0)

    def p_from_mean(self, mean: np.ndarray) -> np.ndarray:
        """P(>=1) from calibrated expected incidents (what a calibrated forecast carries)."""
        return self.p(np.asarray(mean, float) / self.scale)

    def cell_interval(self, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """80 % interval of each cell's count, from calibrated expected incidents."""
        return nb_quantile(mean, self.alpha, Z80[0]), nb_quantile(mean, self.alpha, Z80[1])

    def total_interval(self, mean: np.ndarray) -> tuple[float, float, float]:
        """(expected, low, high) of the sum over the given cells (calibrated means)."""
        m = np.clip(np.asarray(mean, float), 0.0, None)
        return self.total_interval_of(float(m.sum()), float((m**2).sum()))

    def total_interval_of(self, total: float, sum_sq: float) -> tuple[float, float, float]:
        """The same from the sum of the cells' means and the sum of their squares: the total's
        variance is sum m + alpha sum m^2 + alpha_common (total^2 - sum m^2), matched by a
        negative binomial."""
        var = total + self.alpha * sum_sq + self.alpha_common * (total**2 - sum_sq)
        a_eff = max((var - total) / max(total**2, 1e-12), 0.0)
        lo, hi = (float(nb_quantile(np.array([total]), a_eff, q)[0]) for q in Z80)
        return total, lo, hi

    def to_dict(self) -> dict[str, object]:
        return {
            "scale": self.scale, "iso_x": list(self.iso_x), "iso_y": list(self.iso_y),
            "alpha": self.alpha, "alpha_common": self.alpha_common, "origins": self.origins,
            "platt": list(self.platt) if self.platt is not None else None,
            "p_map": self.p_map,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> Rolling:
        return cls(
            float(d["scale"]),  # type: ignore[arg-type]
            tuple(float(x) for x in d["iso_x"]),  # type: ignore[attr-defined]
            tuple(float(x) for x in d["iso_y"]),  # type: ignore[attr-defined]
            float(d["alpha"]),  # type: ignore[arg-type]
            float(d["alpha_common"]),  # type: ignore[arg-type]
            int(d["origins"]),  # type: ignore[call-overload]
            # cards stored before the Platt map existed serve the isotonic one
            tuple(float(x) for x in d["platt"]) if d.get("platt") else None,  # type: ignore[attr-defined, arg-type]
            str(d.get("p_map", "isotonic")),
        )


PLATT_EPS = 1e-6


def platt_p(coef: tuple[float, float], mu: np.ndarray) -> np.ndarray:
    z = coef[0] + coef[1] * np.log(np.clip(np.asarray(mu, float), 0.0, None) + PLATT_EPS)
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0))), float)


def fit_platt(mu: np.ndarray, n: np.ndarray, hits: np.ndarray) -> tuple[float, float] | None:
    """Logistic regression of hit on log(mu + eps) by maximum likelihood over distinct mu values
    (n cells each, `hits` of them with an incident); None when the outcomes cannot identify it
    (no hit, or nothing but hits)."""
    if hits.sum() <= 0 or hits.sum() >= n.sum():
        return None
    x = np.log(np.clip(mu, 0.0, None) + PLATT_EPS)
    miss = n - hits

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = theta[0] + theta[1] * x
        # -log p = log(1 + e^-z), -log(1 - p) = log(1 + e^z)
        f = float(hits @ np.logaddexp(0.0, -z) + miss @ np.logaddexp(0.0, z))
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))
        r = n * p - hits  # d nll / d z
        return f, np.array([r.sum(), r @ x])

    rate = float(hits.sum() / n.sum())
    x0 = np.array([np.log(rate / (1.0 - rate)), 0.0])
    best = minimize(nll, x0, jac=True, method="L-BFGS-B",
                    bounds=[(-60.0, 60.0), (0.0, 10.0)])  # slope >= 0: never reverses a ranking
    return float(best.x[0]), float(best.x[1])


MIN_ROLLING_ORIGINS = 2
MIN_BLOCK_CELLS = 30.0


def pooled_isotonic(
    mu: np.ndarray, n: np.ndarray, hits: np.ndarray, min_block: float = MIN_BLOCK_CELLS
) -> tuple[np.ndarray, np.ndarray]:
    """Isotonic P(>=1) over blocks of at least `min_block` cells: distinct expected counts
    (ascending, with cell and hit counts) are pooled from the top down, so the few most
    extreme forecasts share one observed rate instead of each claiming 0 or 1 from a handful
    of cells; the map interpolates between block centres and is flat beyond them."""
    xs: list[float] = []
    ps: list[float] = []
    ws: list[float] = []
    cn = ch = cx = 0.0
    for k in range(len(mu) - 1, -1, -1):
        cn, ch, cx = cn + n[k], ch + hits[k], cx + mu[k] * n[k]
        if cn >= min_block:
            xs.append(cx / cn)
            ps.append(ch / cn)
            ws.append(cn)
            cn = ch = cx = 0.0
    if cn > 0:  # the remainder joins the lowest block
        if xs:
            tot = ws[-1] + cn
            xs[-1] = (xs[-1] * ws[-1] + cx) / tot
            ps[-1] = (ps[-1] * ws[-1] + ch) / tot
            ws[-1] = tot
        else:
            xs, ps, ws = [cx / cn], [ch / cn], [cn]
    x, p, wt = np.array(xs[::-1]), np.array(ps[::-1]), np.array(ws[::-1])
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True)
    return x, np.asarray(iso.fit(x, p, sample_weight=wt).predict(x), float)


def fit_rolling(
    mus: list[np.ndarray], ys: list[np.ndarray], p_map: str = "isotonic"
) -> Rolling | None:
    """Fit on (mu, y) over all cells of the area at each earlier origin; None (use the model's
    own P) when fewer than MIN_ROLLING_ORIGINS origins or no incident at all are available.
    `p_map` names the P(>=1) map served, "isotonic" or "platt"; both are fitted."""
    if len(mus) < MIN_ROLLING_ORIGINS:
        return None
    mu = np.clip(np.concatenate(mus), 0.0, None)
    y = np.concatenate(ys)
    if y.sum() <= 0 or mu.sum() <= 0:
        return None
    scale = float(np.clip(y.sum() / mu.sum(), 0.2, 5.0))
    # identical (mu, y) pairs (the floor cells above all) collapse into weighted rows
    u, inv = np.unique(mu, return_inverse=True)
    top = int(y.max()) + 1
    key = np.bincount(inv * top + y.astype(np.int64), minlength=len(u) * top)
    nz = np.flatnonzero(key)
    pm, py, w = u[nz // top], (nz % top).astype(float), key[nz].astype(float)
    n_u = np.bincount(inv).astype(float)
    hits_u = np.bincount(inv, weights=(y > 0).astype(float))
    iso_x, iso_y = pooled_isotonic(u, n_u, hits_u)
    platt = fit_platt(u, n_u, hits_u)
    alpha = fit_dispersion(scale * pm, py, w)
    num = den = 0.0
    for m_j, y_j in zip(mus, ys, strict=True):
        m = scale * np.clip(m_j, 0.0, None)
        total, sq = float(m.sum()), float((m**2).sum())
        num += (float(y_j.sum()) - total) ** 2 - total - alpha * sq
        den += total**2 - sq
    alpha_common = max(num / den, 0.0) if den > 0 else 0.0
    return Rolling(
        scale,
        tuple(float(x) for x in iso_x),
        tuple(float(x) for x in iso_y),
        alpha,
        alpha_common,
        len(mus),
        platt,
        p_map,
    )
