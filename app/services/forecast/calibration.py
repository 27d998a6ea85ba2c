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
