"""Models learned from the mission's own past: rows are (cell, past origin tau) pairs, features
from events before tau (panel.py), target = incidents in [tau, tau + horizon).

Every training target window ends at or before the forecast origin, so a model never learns from
the period it forecasts. Rows cover the cells within one ring of an earlier incident; every other
cell of the area shares one floor rate (the rate at which incidents landed outside the rows in
the training windows).

* `count`: LightGBM Poisson regression on the cell's own counts, decays, perpetrators and
  categories, its ring-1/ring-2 counts and the area's activity (the model of issue 6).
* `count_spatial`: the same with neighbour counts at several scales, distance to the nearest
  incident and the ETAS triggering intensity.
* `stack`: LightGBM over every family of the panel: decayed counts at seven scales in the cell
  and its rings, trend, ETAS intensity, distance to recent incidents, category and perpetrator
  mix, location precision, area activity.
* `blend`: a non-negative mixture of decayed counts at seven scales, ring sums and the counts
  of the cell's parent one resolution up (the tempo of the area around it), fitted by Poisson
  maximum likelihood: a self-exciting rate with many kernels. Few parameters, nothing to
  over-fit; it is the "several decay baselines at once" candidate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
from scipy.optimize import minimize

from app.services.forecast import calibration
from app.services.forecast.calibration import Calibrator
from app.services.forecast.panel import EtasKernels, Panel

MAX_TRAIN_ORIGINS = 32
# Rows without an incident in their target window are most of the training set (99 % in CAR)
# and carry little information each: the gradient-boosted models keep this share of them,
# chosen by a hash of (cell, past origin) so the same data always give the same rows, and
# weight them up by its inverse (the Poisson likelihood stays unbiased). A fit takes a
# third of the time.
ZERO_ROW_SHARE = 0.25
MIN_HISTORY_EVENTS = 30
MIN_HISTORY_DAYS = 365.0
CALIBRATION_PERIODS = 4  # internal P(>=1) calibration (used only when no model card exists)
MIN_FIT_PERIODS = 4
PARAMS: dict[str, Any] = {
    "objective": "poisson",
    "learning_rate": 0.075,
    "n_estimators": 100,
    "num_leaves": 15,
    "min_child_samples": 40,
    "subsample": 0.5,
    "subsample_freq": 1,
    "max_bin": 63,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "random_state": 7,
    "n_jobs": 1,
    "verbose": -1,
}

COUNT = (
    "n_30d", "n_91d", "n_365d", "n_730d", "n_all", "harm_decay_180", "n_decay_180",
    "days_since_last", "n_365d_killing", "n_365d_armed_group_presence",
    "n_365d_non_state_armed_group", "n_365d_state_force", "n_365d_community_militia",
    "ring1_n_365d", "ring1_n_all", "ring1_n_decay_180", "ring2_n_365d",
    "country_n_91d", "country_n_365d",
)
COUNT_SPATIAL = (
    *COUNT, "ring1_n_91d", "ring2_n_91d", "ring2_n_all", "ring2_n_decay_180",
    "nearest_90d", "nearest_365d", "nearest_all", "etas_short", "etas_long",
)
STACK = (
    "n_all", "dc_30", "dc_91", "dc_182", "dc_365", "dc_730", "dc_1460", "dc_3650",
    "ring1_dc_91", "ring1_dc_365", "ring1_dc_1460", "ring2_dc_91", "ring2_dc_365",
    "ring2_dc_1460", "ring1_n_all", "ring2_n_all", "dh_365", "days_since_last", "trend",
    "nearest_90d", "nearest_365d", "etas_short", "etas_long",
    "share_killing", "share_armed_group_presence", "share_attack_on_peacekeepers",
    "share_sexual_violence", "share_abduction", "share_non_state_armed_group",
    "share_state_force", "share_community_militia", "share_coarse", "dc_coarse_1460",
    "country_n_91d", "country_n_365d",
)
BLEND = (
    "dc_30", "dc_91", "dc_182", "dc_365", "dc_730", "dc_1460", "dc_3650", "n_all",
    "dc_coarse_1460", "ring1_dc_91", "ring1_dc_365", "ring1_dc_1460", "ring2_dc_365",
    "ring1_n_all", "region1_n_91d", "region1_n_365d", "region1_n_all",
)
FEATURES: dict[str, tuple[str, ...]] = {
    "count": COUNT, "count_spatial": COUNT_SPATIAL, "stack": STACK, "blend": BLEND,
}
NEEDS_ETAS = {"count_spatial", "stack"}


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: every input bit moves every output bit (H3 indexes share long runs
    of equal bits, so their raw low bits cannot serve as a sample key)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


@dataclass
class Training:
    frames: list[np.ndarray]
    targets: list[np.ndarray]
    # per training window: incidents outside the rows, cells outside, cells hit outside
    floors: list[tuple[float, int, int]]
    cells: list[np.ndarray] = field(default_factory=list)
    taus: list[float] = field(default_factory=list)

    def thinned(self, share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X, y, weight) with a deterministic `share` of the zero-target rows, weighted up."""
        X, y = np.vstack(self.frames), np.concatenate(self.targets)
        key = np.concatenate([
            _mix(c.astype(np.uint64) ^ _mix(np.full(len(c), int(round(t)) & 0xFFFFFFFF,
                                                    np.uint64)))
            for c, t in zip(self.cells, self.taus, strict=True)
        ]) if self.cells else np.zeros(0, np.uint64)
        keep = (y > 0) | ((key >> np.uint64(40)).astype(float) < share * (1 << 24))
        weight = np.where(y > 0, 1.0, 1.0 / share)
        return X[keep], y[keep], weight[keep]


def training_set(
    panel: Panel, origin: float, horizon: float, n_domain: int, columns: tuple[str, ...],
    etas: EtasKernels | None,
) -> Training:
    """Rows for up to MAX_TRAIN_ORIGINS past origins tau = origin - k * horizon, most recent
    first; stops where the record before tau is too short to learn from."""
    out = Training([], [], [])
    if not len(panel.t):
        return out
    t0 = float(panel.t.min())
    for k in range(1, MAX_TRAIN_ORIGINS + 1):
        tau = origin - k * horizon
        if tau - t0 < MIN_HISTORY_DAYS or int((panel.t < tau).sum()) < MIN_HISTORY_EVENTS:
            break
        rows = panel.at(tau, etas, horizon)
        y, (n_out, hit_out) = panel.window(tau, horizon)
        out.floors.append((n_out, max(n_domain - len(rows.cells), 1), hit_out))
        out.frames.append(rows.select(columns))
        out.targets.append(y)
        out.cells.append(rows.cells)
        out.taus.append(tau)
    return out


def floor_rate(floors: list[tuple[float, int, int]]) -> float:
    return sum(f for f, _, _ in floors) / sum(n for _, n, _ in floors)


def fit_lgbm(tr: Training) -> lgb.LGBMRegressor:
    X, y, w = tr.thinned(ZERO_ROW_SHARE)
    model = lgb.LGBMRegressor(**PARAMS)
    model.fit(X, y, sample_weight=w)
    return model


def fit_blend(frames: list[np.ndarray], targets: list[np.ndarray]) -> np.ndarray:
    """Non-negative coefficients (last = a constant per row) maximising the Poisson likelihood
    of lambda = X b. Rows with no incident add only -lambda, a linear term: their column sums
    are taken once, so each likelihood evaluation touches only the rows that saw incidents."""
    X = np.vstack([np.c_[f, np.ones(len(f))] for f in frames])
    y = np.concatenate(targets)
    scale = np.maximum(X.mean(axis=0), 1e-12)
    Z = X / scale
    pos = y > 0
    Zp, yp = Z[pos], y[pos]
    colsum = Z.sum(axis=0)

    def nll(b: np.ndarray) -> tuple[float, np.ndarray]:
        lam = Zp @ b + 1e-12
        return float(colsum @ b - yp @ np.log(lam)), colsum - Zp.T @ (yp / lam)

    b0 = np.full(Z.shape[1], y.mean() / max(float(Z.mean()), 1e-12) / Z.shape[1])
    best = minimize(nll, b0, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * Z.shape[1])
    return np.asarray(best.x / scale)


Fitted = Callable[[np.ndarray], np.ndarray]


def no_incident(tr: Training) -> bool:
    """No training period saw an incident (a record that ends long before the origin): nothing
    to learn a rate from, and LightGBM's Poisson fit refuses ("sum of labels is zero")."""
    return not any(float(np.sum(t)) > 0 for t in tr.targets)


def _fit(name: str, tr: Training) -> Fitted:
    if no_incident(tr):  # every period quiet: the learned rate is zero
        return lambda X: np.zeros(len(X))
    if name == "blend":
        coef = fit_blend(tr.frames, tr.targets)
        return lambda X: np.c_[X, np.ones(len(X))] @ coef
    model = fit_lgbm(tr)
    return lambda X: np.asarray(model.predict(X), float)


def internal_calibrations(
    name: str, tr: Training
) -> dict[str, Calibrator]:
    """P(>=1) maps fitted out of time inside one forecast (used when no model card holds a
    rolling calibration): a model trained on the older periods forecasts the
    CALIBRATION_PERIODS most recent ones, all ending at or before the origin."""
    h = CALIBRATION_PERIODS
    if len(tr.frames) < h + MIN_FIT_PERIODS:
        return dict.fromkeys(calibration.CALIBRATIONS, calibration.poisson)
    older = _fit(name, Training(tr.frames[h:], tr.targets[h:], tr.floors[h:], tr.cells[h:],
                                tr.taus[h:]))
    floor = floor_rate(tr.floors[h:])
    mu = [np.clip(older(f), 0.0, None) for f in tr.frames[:h]]
    ys = list(tr.targets[:h])
    weights = [np.ones(len(y)) for y in ys]
    for _, n_out, hit_out in tr.floors[:h]:
        mu.append(np.array([floor, floor]))
        ys.append(np.array([1.0, 0.0]))
        weights.append(np.array([float(hit_out), float(max(n_out - hit_out, 0))]))
    return calibration.fit_all(np.concatenate(mu), np.concatenate(ys), np.concatenate(weights))


@dataclass
class Prediction:
    cells: np.ndarray
    expected: np.ndarray
    floor: float
    calibrations: dict[str, Calibrator]


def predict(
    name: str, panel: Panel, origin: float, horizon: float, n_domain: int,
    etas: EtasKernels | None = None, *, internal_calibration: bool = False,
) -> Prediction:
    columns = FEATURES[name]
    tr = training_set(panel, origin, horizon, n_domain, columns, etas)
    rows = panel.at(origin, etas, horizon)
    if not tr.frames or no_incident(tr):  # too short or too quiet a record to learn from:
        # the cell's own yearly rate
        return Prediction(rows.cells, rows.col("n_365d") / 365.0 * horizon, 0.0, {})
    model = _fit(name, tr)
    expected = np.clip(model(rows.select(columns)), 0.0, None)
    # Equal predictions are common (trees give few distinct values); break ties by the long
    # decayed count, far below any real difference, so ranking is not left to cell order.
    long_memory = rows.col("dc_3650")
    expected = expected + 1e-9 * long_memory / (1.0 + float(long_memory.max(initial=0.0)))
    cals = internal_calibrations(name, tr) if internal_calibration else {}
    return Prediction(rows.cells, expected, floor_rate(tr.floors), cals)
