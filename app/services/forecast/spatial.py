"""Neighbour information at several scales for the count model (method `count_spatial`).

On top of count_model.features: ring-1 and ring-2 neighbour counts over 90 days, 365 days, all
history and a 180-day decay; the ring distance to the nearest incident of the last 90 and 365
days and of all history; and the ETAS triggering intensity (expected direct offspring in the
target window of the incidents before it, short and long kernels) with the ETAS parameters
fitted on the events before the forecast origin. The ETAS background is not used: it smooths
every training event, including those in the training rows' own target windows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.services.forecast import count_model, etas
from app.services.forecast.features import rings_around

NEAREST_MAX_RINGS = 6  # distances beyond this read as NEAREST_MAX_RINGS + 1


def _nearest(sources: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Ring distance from each cell to the nearest source cell (capped)."""
    far = float(NEAREST_MAX_RINGS + 1)
    if len(sources) == 0:
        return np.full(len(cells), far)
    r = rings_around(sources, NEAREST_MAX_RINGS)
    d = pd.Series(r.dist, index=r.target).groupby(level=0).min()
    return d.reindex(cells).fillna(far).to_numpy(float)


def make_features(
    past: pd.DataFrame, origin: float, horizon: float, n_domain: int, rings: int = 2
) -> count_model.FeatureFn:
    """The feature function for one forecast origin (ETAS fitted once, before the origin)."""
    past = past[past["t"] < origin]
    fitted = etas.fit(past, origin, n_domain, rings=rings)

    def features(ev: pd.DataFrame, tau: float, cells: np.ndarray) -> pd.DataFrame:
        out = count_model.features(ev, tau, cells)
        e = ev[ev["t"] < tau]
        age = tau - e["t"].to_numpy()
        where = e["cell"].to_numpy()
        scales = {
            "90d": np.where(age <= 90.0, 1.0, 0.0),
            "365d": np.where(age <= 365.0, 1.0, 0.0),
            "all": np.ones(len(e)),
            "decay_180": np.exp(-age / 180.0),
        }
        for name, w in scales.items():
            by_cell = pd.Series(w, index=where).groupby(level=0).sum()
            for d in (1, 2):
                col = f"ring{d}_n_{name}"
                if col not in out:
                    out[col] = count_model.ring_sum(by_cell, cells, d)
        for name, window in (("90d", 90.0), ("365d", 365.0), ("all", np.inf)):
            out[f"nearest_{name}"] = _nearest(np.unique(where[age <= window]), cells)
        trig = etas.triggered(fitted, e, tau, horizon, rings).reindex(cells).fillna(0.0)
        out["etas_short"] = trig["short"].to_numpy()
        out["etas_long"] = trig["long"].to_numpy()
        return out

    return features
