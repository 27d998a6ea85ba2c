"""Gradient-boosted Poisson count model (LightGBM) on lagged cell, neighbour-ring, category and
perpetrator features.

Training rows are (cell, past origin) pairs: features from events before each past origin tau,
target = incidents in [tau, tau + horizon). Every training target period ends at or before the
forecast origin, so the model never learns from the period it forecasts. Rows cover the cells
within one ring of any earlier event; all other cells share one floor rate.

P(>=1) is calibrated out of time (calibration.py): a second model trained without the
CALIBRATION_PERIODS most recent periods forecasts them, and the calibrations are fitted on those
forecasts and outcomes; the chosen one (negbin by default) maps the final model's counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from app.services.forecast import calibration
from app.services.forecast.calibration import Calibrator
from app.services.forecast.features import CATEGORIES, PERPETRATORS, Forecast, rings_around

WINDOWS = (30.0, 91.0, 365.0, 730.0)
MAX_TRAIN_ORIGINS = 32
MIN_HISTORY_EVENTS = 30
CALIBRATION_PERIODS = 4  # most recent training periods held out to fit P(>=1)
MIN_FIT_PERIODS = 4  # older periods needed to forecast them
PARAMS: dict[str, Any] = {
    "objective": "poisson",
    "learning_rate": 0.05,
    "n_estimators": 150,
    "num_leaves": 15,
    "min_child_samples": 40,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "random_state": 7,
    "n_jobs": 1,
    "verbose": -1,
}


def _counts(
    ev: pd.DataFrame, cells: np.ndarray, mask: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    sub = ev["cell"].to_numpy()[mask]
    w = None if weights is None else weights[mask]
    s = pd.Series(np.ones(len(sub)) if w is None else w, index=sub).groupby(level=0).sum()
    return s.reindex(cells).fillna(0.0).to_numpy()


def ring_sum(values: pd.Series, cells: np.ndarray, d: int) -> np.ndarray:
    """Sum of `values` (indexed by cell) over the cells exactly d rings away from each cell."""
    r = rings_around(cells, d)
    sel = r.dist == d
    link = pd.DataFrame({"cell": r.source[sel], "nb": r.target[sel]})
    link["v"] = values.reindex(link["nb"].to_numpy()).fillna(0.0).to_numpy()
    return link.groupby("cell")["v"].sum().reindex(cells).fillna(0.0).to_numpy()


def candidate_cells(past: pd.DataFrame) -> np.ndarray:
    return np.unique(rings_around(past["cell"].to_numpy(), 1).target)


def features(past: pd.DataFrame, tau: float, cells: np.ndarray) -> pd.DataFrame:
    """Feature rows for `cells` from events strictly before tau."""
    ev = past[past["t"] < tau]
    t = ev["t"].to_numpy()
    age = tau - t
    out: dict[str, np.ndarray] = {}
    for w in WINDOWS:
        out[f"n_{int(w)}d"] = _counts(ev, cells, age <= w)
    out["n_all"] = _counts(ev, cells, np.ones(len(ev), bool))
    out["harm_decay_180"] = _counts(
        ev, cells, np.ones(len(ev), bool), ev["harm"].to_numpy() * np.exp(-age / 180.0)
    )
    out["n_decay_180"] = _counts(ev, cells, np.ones(len(ev), bool), np.exp(-age / 180.0))
    last = pd.Series(t, index=ev["cell"].to_numpy()).groupby(level=0).max()
    out["days_since_last"] = np.minimum(tau - last.reindex(cells).fillna(-1e9).to_numpy(), 7300.0)
    cat, perp = ev["category"].to_numpy(), ev["perpetrator_type"].to_numpy()
    recent = age <= 365.0
    for c in CATEGORIES[:2]:
        out[f"n_365d_{c}"] = _counts(ev, cells, recent & (cat == c))
    for p in PERPETRATORS:
        out[f"n_365d_{p}"] = _counts(ev, cells, recent & (perp == p))
    by_cell_365 = (
        pd.Series(np.ones(int(recent.sum())), index=ev["cell"].to_numpy()[recent])
        .groupby(level=0)
        .sum()
    )
    by_cell_all = pd.Series(np.ones(len(ev)), index=ev["cell"].to_numpy()).groupby(level=0).sum()
    by_cell_dec = (
        pd.Series(np.exp(-age / 180.0), index=ev["cell"].to_numpy()).groupby(level=0).sum()
    )
    out["ring1_n_365d"] = ring_sum(by_cell_365, cells, 1)
    out["ring1_n_all"] = ring_sum(by_cell_all, cells, 1)
    out["ring1_n_decay_180"] = ring_sum(by_cell_dec, cells, 1)
    out["ring2_n_365d"] = ring_sum(by_cell_365, cells, 2)
    out["country_n_91d"] = np.full(len(cells), float((age <= 91.0).sum()))
    out["country_n_365d"] = np.full(len(cells), float(recent.sum()))
    return pd.DataFrame(out)


def _target(past: pd.DataFrame, tau: float, end: float, cells: np.ndarray) -> np.ndarray:
    t = past["t"].to_numpy()
    return _counts(past, cells, (t >= tau) & (t < end))


FeatureFn = Callable[[pd.DataFrame, float, np.ndarray], pd.DataFrame]


def _fit(frames: list[pd.DataFrame], targets: list[np.ndarray]) -> lgb.LGBMRegressor:
    model = lgb.LGBMRegressor(**PARAMS)
    model.fit(pd.concat(frames, ignore_index=True), np.concatenate(targets))
    return model


def _learnable(targets: list[np.ndarray]) -> bool:
    return bool(targets) and float(sum(t.sum() for t in targets)) > 0


def _floor(floors: list[tuple[float, int, int]]) -> float:
    return sum(f for f, _, _ in floors) / sum(n for _, n, _ in floors)


def _calibrations(
    frames: list[pd.DataFrame], targets: list[np.ndarray], floors: list[tuple[float, int, int]]
) -> dict[str, Calibrator]:
    """P(>=1) calibrations fitted out of time: a model trained on the older periods forecasts
    the CALIBRATION_PERIODS most recent ones (all ending at or before the origin); the cells
    outside the candidate rows enter as weighted rows at that model's floor rate."""
    h = CALIBRATION_PERIODS
    if len(frames) < h + MIN_FIT_PERIODS or not _learnable(targets[h:]):
        # too short a record (or no incident in its older periods): every calibration is Poisson
        return dict.fromkeys(calibration.CALIBRATIONS, calibration.poisson)
    older = _fit(frames[h:], targets[h:])
    floor = _floor(floors[h:])
    mu = [np.clip(older.predict(f), 0.0, None) for f in frames[:h]]
    ys = list(targets[:h])
    weights = [np.ones(len(y)) for y in ys]
    for _, n_out, hit_out in floors[:h]:
        mu.append(np.array([floor, floor]))
        ys.append(np.array([1.0, 0.0]))
        weights.append(np.array([float(hit_out), float(max(n_out - hit_out, 0))]))
    return calibration.fit_all(np.concatenate(mu), np.concatenate(ys), np.concatenate(weights))


def forecast(
    past: pd.DataFrame,
    origin: float,
    horizon: float,
    n_domain: int,
    harm_per_incident: pd.Series | None = None,
    default_harm: float = 0.0,
    *,
    feature_fn: FeatureFn = features,
    calibrate: str = "negbin",
    name: str = "count",
) -> Forecast:
    past = past[past["t"] < origin]
    t0 = float(past["t"].min())
    frames, targets, floors = [], [], []
    for k in range(1, MAX_TRAIN_ORIGINS + 1):
        tau = origin - k * horizon
        hist = past[past["t"] < tau]
        if len(hist) < MIN_HISTORY_EVENTS or tau - t0 < 365.0:
            break
        cells = candidate_cells(hist)
        y = _target(past, tau, tau + horizon, cells)
        window = past[(past["t"] >= tau) & (past["t"] < tau + horizon)]
        outside = ~np.isin(window["cell"].to_numpy(), cells)
        floors.append(
            (
                float(outside.sum()),
                max(n_domain - len(cells), 1),
                len(np.unique(window["cell"].to_numpy()[outside])),
            )
        )
        frames.append(feature_fn(past, tau, cells))
        targets.append(y)
    cells = candidate_cells(past)
    calibrations: dict[str, Calibrator] = {}
    if not _learnable(targets):
        # too little history to learn from (or not one incident in any training period, which a
        # Poisson objective cannot fit): fall back to the cell's own recent rate
        rate = features(past, origin, cells)["n_365d"].to_numpy() / 365.0 * horizon
        expected = rate
        floor = 0.0
    else:
        model = _fit(frames, targets)
        expected = np.clip(model.predict(feature_fn(past, origin, cells)), 0.0, None)
        floor = _floor(floors)
        calibrations = _calibrations(frames, targets, floors)
    fc = Forecast.from_rates(name, cells, expected, floor, harm_per_incident, default_harm)
    fc.calibrations = calibrations
    fc.calibrate = calibrations.get(calibrate) if calibrate != "poisson" else None
    return fc
