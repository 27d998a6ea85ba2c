"""The forecast methods by name: models and baselines behind one signature.

Every method receives all events it may use and an origin; it filters to events strictly before
the origin itself, so no caller can leak a later incident into a forecast by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.services.forecast import baselines, count_model, etas, spatial
from app.services.forecast.features import Forecast, before

MODELS = ("etas", "count", "count_spatial")
BASELINES = ("decay", "last_90d", "last_365d", "history")
METHODS = MODELS + BASELINES
HARM_SHRINK = 5.0  # pseudo-incidents pulling a cell's harm per incident towards the mean


@dataclass(frozen=True)
class Params:
    n_domain: int
    decay_scale_days: float = 180.0
    rings: int = 2
    calibration: str = "negbin"  # P(>=1) of the count models (see calibration.py)


def harm_per_incident(past: pd.DataFrame) -> tuple[pd.Series, float]:
    """Mean harm per incident by cell, shrunk towards the overall mean."""
    overall = float(past["harm"].mean()) if len(past) else 0.0
    g = past.groupby("cell")["harm"].agg(["sum", "count"])
    return (g["sum"] + HARM_SHRINK * overall) / (g["count"] + HARM_SHRINK), overall


def compute(method: str, ev: pd.DataFrame, origin: float, horizon: float, p: Params) -> Forecast:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    past = before(ev, origin)
    if method == "decay":
        fc = baselines.decay(past, origin, horizon, p.decay_scale_days)
    elif method == "last_90d":
        fc = baselines.persistence(past, origin, horizon, 90.0, method)
    elif method == "last_365d":
        fc = baselines.persistence(past, origin, horizon, 365.0, method)
    elif method == "history":
        fc = baselines.history(past, origin, horizon)
    elif past.empty:
        fc = Forecast(method, np.array([], np.int64), np.array([]), np.array([]), np.array([]))
    elif method == "etas":
        hpi, mean_harm = harm_per_incident(past)
        fitted = etas.fit(past, origin, p.n_domain, rings=p.rings)
        fc = etas.forecast(
            fitted,
            past,
            origin,
            horizon,
            rings=p.rings,
            harm_per_incident=hpi,
            default_harm=mean_harm,
        )
    else:
        hpi, mean_harm = harm_per_incident(past)
        fc = count_model.forecast(
            past,
            origin,
            horizon,
            p.n_domain,
            harm_per_incident=hpi,
            default_harm=mean_harm,
            feature_fn=(
                spatial.make_features(past, origin, horizon, p.n_domain, p.rings)
                if method == "count_spatial"
                else count_model.features
            ),
            calibrate=p.calibration,
        )
    fc.method = method
    return fc
