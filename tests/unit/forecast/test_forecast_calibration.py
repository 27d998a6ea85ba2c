"""Calibrating P(>=1): negative-binomial and isotonic maps fitted out of time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.forecast import backtest as bt
from app.services.forecast import calibration as C
from app.services.forecast import count_model
from app.services.forecast import methods as M
from app.services.forecast.features import to_days
from tests.unit.forecast.test_forecast_backtest import domain_of, synthetic


def test_negbin_fit_recovers_overdispersion_and_poisson_when_there_is_none():
    rng = np.random.default_rng(11)
    mu = rng.gamma(0.5, 0.4, 40_000)
    alpha = 2.0  # gamma-mixed Poisson = negative binomial with this dispersion
    y_nb = rng.poisson(mu * rng.gamma(1 / alpha, alpha, len(mu)))
    y_po = rng.poisson(mu)
    w = np.ones(len(mu))
    nb = C.fit_negbin(mu, (y_nb > 0).astype(float), w)
    po = C.fit_negbin(mu, (y_po > 0).astype(float), w)
    assert 1.2 < nb.alpha < 3.2 and nb.scale == pytest.approx(1.0, abs=0.25)
    assert po.alpha < 0.3 and po.scale == pytest.approx(1.0, abs=0.1)


@given(st.floats(1e-4, 20.0), st.floats(0.2, 5.0), st.lists(st.floats(0, 50), min_size=2))
@settings(max_examples=60, deadline=None)
def test_negbin_is_a_probability_monotone_in_mu_and_below_poisson_at_scale_one(alpha, scale, mus):
    mu = np.sort(np.array(mus))
    p = C.NegBin(alpha, scale)(mu)
    assert np.all((p >= 0) & (p <= 1)) and np.all(np.diff(p) >= -1e-12)
    assert np.all(C.NegBin(alpha, 1.0)(mu) <= C.poisson(mu) + 1e-12)


def test_isotonic_is_monotone_and_clips_outside_its_range():
    mu = np.array([0.001, 0.01, 0.1, 0.5, 1.0, 2.0])
    hit = np.array([0.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    iso = C.fit_isotonic(mu, hit, np.ones(len(mu)))
    p = iso(np.array([0.0, 0.001, 0.3, 5.0]))
    assert np.all(np.diff(p) >= 0) and p[0] == p[1] == 0.0 and p[-1] == 1.0


ORIGIN = to_days(datetime(2020, 7, 1, tzinfo=UTC))


def test_count_model_fits_every_calibration_and_ships_the_chosen_one_without_reranking():
    ev = synthetic(400, seed=2)
    dom = domain_of(ev)
    raw = M.compute("count", ev, ORIGIN, 91.0, M.Params(len(dom), calibration="poisson")).on(dom)
    nb = M.compute("count", ev, ORIGIN, 91.0, M.Params(len(dom), calibration="negbin")).on(dom)
    assert set(nb.calibrations) == set(C.CALIBRATIONS)
    np.testing.assert_array_equal(raw.score, nb.score)  # calibration never changes the ranking
    np.testing.assert_allclose(raw.p_incident, C.poisson(raw.expected_incidents))
    np.testing.assert_allclose(nb.p_incident, nb.calibrations["negbin"](nb.expected_incidents))
    order = np.argsort(nb.expected_incidents)
    assert np.all(np.diff(nb.p_incident[order]) >= -1e-12)


def test_a_short_record_falls_back_to_poisson():
    ev = synthetic(400, seed=2)
    ev = ev[ev["t"] >= to_days(datetime(2019, 1, 1, tzinfo=UTC))]
    fc = count_model.forecast(ev, ORIGIN, 91.0, 5000)
    assert all(f is C.poisson for f in fc.calibrations.values())


def test_backtest_reports_brier_and_reliability_per_calibration():
    ev = synthetic(300, seed=4)
    dom = domain_of(ev)
    p = M.Params(n_domain=len(dom))
    periods = bt.origins(date(2019, 10, 1), date(2020, 10, 1), "quarter")

    def bind(m: str) -> bt.Method:
        return lambda e, o, h: M.compute(m, e, o, h, p)

    fns = {m: bind(m) for m in ("count", "decay")}
    result = bt.run(ev, dom, periods, fns)
    count = result["methods"]["count"]
    assert set(count["calibrations"]) == set(C.CALIBRATIONS)
    assert count["brier"] == count["calibrations"]["negbin"]["brier"]
    for c in count["calibrations"].values():
        assert sum(r["cells"] for r in c["reliability"]) == len(dom) * len(periods)
    assert "calibrations" not in result["methods"]["decay"]
