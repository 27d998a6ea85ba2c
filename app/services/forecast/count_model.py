"""Placeholder; replaced by the gradient-boosted count model."""

from __future__ import annotations

import pandas as pd

from app.services.forecast import baselines
from app.services.forecast.features import Forecast


def forecast(
    past: pd.DataFrame,
    origin: float,
    horizon: float,
    n_domain: int,
    harm_per_incident: pd.Series | None = None,
    default_harm: float = 0.0,
) -> Forecast:
    return baselines.decay(past, origin, horizon, 180.0)
