"""Baselines computed beside every model: what a simple rule would say.

Each turns past events into a rate per cell and scales it to the horizon; P(>=1) follows from a
Poisson count with that mean. The decay baseline ranks cells by decayed harm (the usual
"where has it hurt lately" map); the window baselines rank by incident count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.services.forecast.features import Forecast, before


def _per_cell(
    ev: pd.DataFrame, weight: np.ndarray, harm_weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = pd.DataFrame({"cell": ev["cell"].to_numpy(), "w": weight, "h": harm_weight})
    g = frame.groupby("cell", sort=True)[["w", "h"]].sum()
    return g.index.to_numpy(np.int64), g["w"].to_numpy(), g["h"].to_numpy()


def decay(ev: pd.DataFrame, origin: float, horizon: float, scale_days: float) -> Forecast:
    """Exponentially decayed counts and harm; the kernel integrates to `scale_days`, so
    decayed count / scale is a rate per day."""
    past = before(ev, origin)
    w = np.exp(-(origin - past["t"].to_numpy()) / scale_days)
    cells, n, h = _per_cell(past, w, w * past["harm"].to_numpy())
    rate_n, rate_h = n / scale_days, h / scale_days
    return Forecast("decay", cells, rate_n * horizon, rate_h * horizon, h + 1e-9 * n)


def persistence(
    ev: pd.DataFrame, origin: float, horizon: float, window_days: float, name: str
) -> Forecast:
    """The last `window_days` repeat themselves."""
    past = before(ev, origin)
    past = past[past["t"] >= origin - window_days]
    ones = np.ones(len(past))
    cells, n, h = _per_cell(past, ones, past["harm"].to_numpy())
    return Forecast(name, cells, n / window_days * horizon, h / window_days * horizon, n + 1e-6 * h)


def history(ev: pd.DataFrame, origin: float, horizon: float) -> Forecast:
    """All history: the long-run average rate since the first recorded event."""
    past = before(ev, origin)
    if past.empty:
        return Forecast("history", np.array([], np.int64), np.array([]), np.array([]), np.array([]))
    span = max(origin - float(past["t"].min()), 1.0)
    cells, n, h = _per_cell(past, np.ones(len(past)), past["harm"].to_numpy())
    return Forecast("history", cells, n / span * horizon, h / span * horizon, n + 1e-6 * h)


def all_baselines(
    ev: pd.DataFrame, origin: float, horizon: float, scale_days: float
) -> list[Forecast]:
    return [
        decay(ev, origin, horizon, scale_days),
        persistence(ev, origin, horizon, 90.0, "last_90d"),
        persistence(ev, origin, horizon, 365.0, "last_365d"),
        history(ev, origin, horizon),
    ]
