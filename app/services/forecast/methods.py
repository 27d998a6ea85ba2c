"""The forecast methods by name: models and baselines behind one signature.

Every method receives all events it may use and an origin; it filters to events strictly before
the origin itself, so no caller can leak a later incident into a forecast by mistake.

The models of one origin share their ground: the cell panel and the ETAS fit are memoised per
(content of the events before the origin, origin), so a backtest computing five models at an
origin indexes the events and fits ETAS once. The key is the events' content, never their
identity, so a changed incident can never be served a stale panel.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.services.forecast import baselines, etas, learned
from app.services.forecast.features import Forecast, before
from app.services.forecast.panel import EtasKernels, Panel

MODELS = ("etas", "count", "count_spatial", "blend", "stack")
BASELINES = ("decay", "last_90d", "last_365d", "history")
METHODS = MODELS + BASELINES
HARM_SHRINK = 5.0  # pseudo-incidents pulling a cell's harm per incident towards the mean


@dataclass(frozen=True)
class Params:
    n_domain: int
    decay_scale_days: float = 180.0
    rings: int = 2
    calibration: str = "negbin"  # internal P(>=1) of the learned models (see calibration.py)
    # Fit the learned models' internal P(>=1) calibration (a second, held-out fit). Off in
    # backtests and wherever a model card's rolling calibration is applied instead.
    internal_calibration: bool = True


def harm_per_incident(past: pd.DataFrame) -> tuple[pd.Series, float]:
    """Mean harm per incident by cell, shrunk towards the overall mean."""
    overall = float(past["harm"].mean()) if len(past) else 0.0
    g = past.groupby("cell")["harm"].agg(["sum", "count"])
    return (g["sum"] + HARM_SHRINK * overall) / (g["count"] + HARM_SHRINK), overall


def fingerprint(past: pd.DataFrame) -> str:
    h = hashlib.blake2b(digest_size=16)
    for col in ("t", "cell", "harm", "radius"):
        if col in past:
            h.update(np.ascontiguousarray(past[col].to_numpy()).tobytes())
    for col in ("category", "perpetrator_type"):
        h.update("\x1f".join(past[col].astype(str).tolist()).encode())
    return h.hexdigest()


class OriginContext:
    """What the models of one origin share: the panel and ETAS fits."""

    def __init__(self, past: pd.DataFrame, origin: float, rings: int) -> None:
        self.past, self.origin, self.rings = past, origin, rings
        self.panel = Panel(past, rings)
        self._etas: dict[int, etas.EtasFit] = {}
        self._hpi: tuple[pd.Series, float] | None = None

    def etas_fit(self, n_domain: int) -> etas.EtasFit:
        if n_domain not in self._etas:
            self._etas[n_domain] = etas.fit(self.past, self.origin, n_domain, rings=self.rings)
        return self._etas[n_domain]

    def kernels(self, n_domain: int) -> EtasKernels:
        f = self.etas_fit(n_domain)
        return EtasKernels(f.K, f.w, f.g)

    def harm(self) -> tuple[pd.Series, float]:
        if self._hpi is None:
            self._hpi = harm_per_incident(self.past)
        return self._hpi


_CONTEXTS: OrderedDict[tuple[str, float, int], OriginContext] = OrderedDict()
_MAX_CONTEXTS = 4


def context(past: pd.DataFrame, origin: float, rings: int) -> OriginContext:
    key = (fingerprint(past), origin, rings)
    ctx = _CONTEXTS.get(key)
    if ctx is None:
        ctx = OriginContext(past, origin, rings)
        _CONTEXTS[key] = ctx
        while len(_CONTEXTS) > _MAX_CONTEXTS:
            _CONTEXTS.popitem(last=False)
    else:
        _CONTEXTS.move_to_end(key)
    return ctx


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
    else:
        ctx = context(past, origin, p.rings)
        hpi, mean_harm = ctx.harm()
        if method == "etas":
            fc = etas.forecast(
                ctx.etas_fit(p.n_domain), past, origin, horizon, rings=p.rings,
                harm_per_incident=hpi, default_harm=mean_harm,
            )
        else:
            kernels = ctx.kernels(p.n_domain) if method in learned.NEEDS_ETAS else None
            pred = learned.predict(
                method, ctx.panel, origin, horizon, p.n_domain, kernels,
                internal_calibration=p.internal_calibration,
            )
            fc = Forecast.from_rates(method, pred.cells, pred.expected, pred.floor, hpi, mean_harm)
            fc.calibrations = pred.calibrations
            if p.internal_calibration and p.calibration != "poisson":
                fc.calibrate = pred.calibrations.get(p.calibration)
    fc.method = method
    return fc
