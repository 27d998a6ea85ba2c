"""Calibrating P(>=1): negative-binomial and isotonic maps fitted out of time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.forecast import backtest as bt
from app.services.forecast import calibration as C
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
    fc = M.compute("count", ev, ORIGIN, 91.0, M.Params(5000))
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


# --- rolling, out-of-time calibration --------------------------------------------------------


def _nb_world(seed: int, origins: int, cells: int = 4000, alpha: float = 1.5, swing: float = 0.3):
    """Forecasts mu that are right up to a level error (x 0.5) and a common swing per origin,
    counts over-dispersed around them."""
    rng = np.random.default_rng(seed)
    mus, ys = [], []
    for _ in range(origins):
        mu = rng.gamma(0.3, 0.5, cells)
        g = rng.gamma(1 / swing, swing)
        lam = 0.5 * mu * g * rng.gamma(1 / alpha, alpha, cells)
        mus.append(mu)
        ys.append(rng.poisson(lam).astype(float))
    return mus, ys


def test_rolling_calibration_fixes_the_level_and_is_reliable_out_of_time():
    mus, ys = _nb_world(3, 30)
    pr = bt.Probabilities()
    for i in range(12, 30):  # each origin calibrated on the twelve before it
        cal = C.fit_rolling(mus[i - 12:i], ys[i - 12:i])
        assert cal is not None and cal.scale == pytest.approx(0.5, rel=0.3)
        pr.add(cal.p(mus[i]), (ys[i] > 0).astype(float))
    for b in pr.reliability():
        if b["cells"] >= 30:
            assert abs(b["mean_p"] - b["observed"]) <= 0.1, b
    # a map never lowers P(>=1) where more is expected, and never reaches 1 on a few cells
    grid = np.linspace(0, float(np.concatenate(mus).max()) * 2, 200)
    p = cal.p(grid)
    assert np.all(np.diff(p) >= -1e-12) and p.max() < 1.0


def test_pooled_isotonic_blocks_hold_at_least_the_minimum_of_cells():
    mu = np.array([0.01, 0.1, 0.5, 1.0, 2.0, 5.0])
    n = np.array([1000.0, 200.0, 50.0, 20.0, 5.0, 1.0])
    hits = np.array([5.0, 10.0, 12.0, 10.0, 5.0, 1.0])
    x, p = C.pooled_isotonic(mu, n, hits, min_block=30.0)
    # 5.0, 2.0 and 1.0 (26 cells) pool with 0.5 into one block: never p = 1 from one cell
    assert len(x) == 3 and p[-1] == pytest.approx((12 + 10 + 5 + 1) / 76)
    assert np.all(np.diff(x) > 0) and np.all(np.diff(p) >= 0)


def test_intervals_hold_about_eighty_percent_for_cells_and_totals():
    mus, ys = _nb_world(5, 40, cells=3000)
    cal = C.fit_rolling(mus[:12], ys[:12])
    assert cal is not None
    inside = total_in = n = 0
    for mu, y in zip(mus[12:], ys[12:], strict=True):
        mean = cal.mean(mu)
        lo, hi = cal.cell_interval(mean)
        live = mean > 0.3  # cells where an interval is more than [0, 0]
        inside += int(((y >= lo) & (y <= hi))[live].sum())
        n += int(live.sum())
        _, t_lo, t_hi = cal.total_interval(mean)
        total_in += int(t_lo <= y.sum() <= t_hi)
    assert 0.78 <= inside / n <= 0.97  # discrete counts: at least 80 %, not much more
    assert 0.6 <= total_in / 28 <= 1.0


def test_rolling_calibration_round_trips_through_json():
    mus, ys = _nb_world(7, 4)
    cal = C.fit_rolling(mus, ys)
    assert cal is not None
    again = C.Rolling.from_dict(cal.to_dict())
    mu = np.linspace(0, 3, 50)
    np.testing.assert_allclose(again.p(mu), cal.p(mu))
    assert again.total_interval(mu) == cal.total_interval(mu)
    assert C.fit_rolling(mus[:1], ys[:1]) is None  # one origin is too few to calibrate on


def test_platt_recovers_a_logistic_curve_and_serves_it_in_the_tail():
    rng = np.random.default_rng(11)
    mu = np.exp(rng.uniform(np.log(1e-4), np.log(3.0), 40_000))
    a, b = -0.8, 0.9
    p_true = 1.0 / (1.0 + np.exp(-(a + b * np.log(mu + C.PLATT_EPS))))
    y = (rng.random(len(mu)) < p_true).astype(float)
    u, inv = np.unique(mu, return_inverse=True)
    coef = C.fit_platt(u, np.bincount(inv).astype(float), np.bincount(inv, weights=y))
    assert coef is not None
    assert coef[0] == pytest.approx(a, abs=0.15) and coef[1] == pytest.approx(b, abs=0.05)
    # served by a rolling calibration that asks for it; the isotonic map is fitted beside it
    cal = C.fit_rolling([mu[:20_000], mu[20_000:]], [y[:20_000], y[20_000:]], "platt")
    assert cal is not None and cal.platt is not None and cal.p_map == "platt"
    tail = np.array([1.5, 2.0, 2.9])
    exact = 1.0 / (1.0 + np.exp(-(a + b * np.log(tail))))
    np.testing.assert_allclose(cal.p(tail), exact, atol=0.05)
    assert not np.allclose(cal.p(tail), cal.p_isotonic(tail))  # the pooled top block is flat
    grid = np.linspace(0.0, 5.0, 100)
    assert np.all(np.diff(cal.p(grid)) >= 0.0)  # slope >= 0: never reverses a ranking


def test_isotonic_is_served_by_default_and_cards_keep_the_map_they_were_fitted_with():
    mus, ys = _nb_world(8, 6)
    iso = C.fit_rolling(mus, ys)
    assert iso is not None and iso.p_map == "isotonic" and iso.platt is not None
    mu = np.linspace(0, 3, 50)
    np.testing.assert_allclose(iso.p(mu), iso.p_isotonic(mu))
    assert not np.allclose(iso.p(mu), iso.p_platt(mu))
    platt = C.fit_rolling(mus, ys, "platt")
    assert platt is not None
    np.testing.assert_allclose(C.Rolling.from_dict(platt.to_dict()).p(mu), platt.p_platt(mu))
    old = platt.to_dict()
    for key in ("platt", "p_map"):  # a card stored before the Platt map existed
        old.pop(key)
    np.testing.assert_allclose(C.Rolling.from_dict(old).p(mu), platt.p_isotonic(mu))
    assert C.fit_platt(np.array([0.1, 1.0]), np.array([5.0, 5.0]), np.zeros(2)) is None
