"""Forecast methods on synthetic data: baselines' arithmetic, ETAS fit sanity, count model."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from app.services.forecast import baselines, etas
from app.services.forecast import methods as M
from app.services.forecast.features import to_days
from tests.unit.forecast.test_forecast_backtest import domain_of, synthetic

ORIGIN = to_days(datetime(2020, 1, 1, tzinfo=UTC))


def one(t: float, cell: int = 604189371209351167, harm: float = 3.0) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "t": t,
                "cell": cell,
                "harm": harm,
                "category": "killing",
                "perpetrator_type": "state_force",
            }
        ]
    )


def test_decay_of_a_fresh_event_is_horizon_over_scale():
    fc = baselines.decay(one(ORIGIN - 1e-9), ORIGIN, 90.0, 180.0)
    assert fc.expected_incidents[0] == pytest.approx(0.5)
    assert fc.expected_harm[0] == pytest.approx(1.5)
    older = baselines.decay(one(ORIGIN - 180.0), ORIGIN, 90.0, 180.0)
    assert older.expected_incidents[0] == pytest.approx(0.5 / np.e)


def test_persistence_forgets_events_older_than_its_window():
    ev = pd.concat([one(ORIGIN - 10), one(ORIGIN - 100)])
    assert baselines.persistence(ev, ORIGIN, 90.0, 90.0, "p").expected_incidents[0] == 1.0
    assert baselines.persistence(ev, ORIGIN, 90.0, 365.0, "p").expected_incidents[0] == (
        pytest.approx(2 * 90 / 365)
    )


def test_history_rate_spans_the_whole_record():
    ev = pd.concat([one(ORIGIN - 1000), one(ORIGIN - 10)])
    fc = baselines.history(ev, ORIGIN, 100.0)
    assert fc.expected_incidents[0] == pytest.approx(2 * 100 / 1000)


def test_etas_fit_is_a_stable_subcritical_process():
    ev = synthetic(300, seed=3)
    fit = etas.fit(ev[ev["t"] < ORIGIN], ORIGIN, n_domain=5000)
    assert fit.mu > 0 and np.all((fit.K > 0) & (fit.K < 1)) and fit.K.sum() < 1
    assert np.all(fit.w > 0) and np.isfinite(fit.loglik)
    sizes = np.array([1, 6, 12])
    np.testing.assert_allclose((fit.g * sizes).sum(axis=1), 1.0)
    fc = etas.forecast(fit, ev, ORIGIN, 91.0)
    assert np.all(fc.expected_incidents > 0)


def test_etas_sees_clustering_that_a_poisson_process_lacks():
    rng = np.random.default_rng(5)
    cells = domain_of(synthetic(40))
    flat = pd.DataFrame(
        {
            "t": np.sort(rng.uniform(ORIGIN - 2000, ORIGIN, 300)),
            "cell": rng.choice(cells, 300),
            "harm": 1.0,
            "category": "killing",
            "perpetrator_type": "unknown",
        }
    )
    # bursts: each parent followed within days by several events in its own cell
    parents = flat.iloc[:60]
    kids = parents.loc[parents.index.repeat(4)].copy()
    kids["t"] = kids["t"].to_numpy() + rng.exponential(5.0, len(kids))
    bursty = pd.concat([parents, kids]).sort_values("t").reset_index(drop=True)
    bursty = bursty[bursty["t"] < ORIGIN]
    k_flat = etas.fit(flat, ORIGIN, len(cells)).K.sum()
    k_bursty = etas.fit(bursty, ORIGIN, len(cells)).K.sum()
    assert k_bursty > k_flat + 0.2


@pytest.mark.parametrize("method", M.METHODS)
def test_every_method_returns_non_negative_finite_forecasts(method):
    ev = synthetic(240)
    dom = domain_of(ev)
    fc = M.compute(method, ev, ORIGIN, 28.0, M.Params(len(dom))).on(dom)
    for arr in (fc.expected_incidents, fc.expected_harm, fc.p_incident):
        assert np.all(np.isfinite(arr)) and np.all(arr >= 0)
    assert np.all(fc.p_incident <= 1)
    assert fc.expected_incidents.sum() > 0


def test_unknown_method_is_refused():
    with pytest.raises(ValueError):
        M.compute("oracle", synthetic(10), ORIGIN, 28.0, M.Params(10))
