"""The cell panel equals a brute-force computation, never reads an event at or after its time,
and the learned models built on it are deterministic and non-negative."""

from __future__ import annotations

from datetime import UTC, datetime

import h3
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from app.services.forecast import learned
from app.services.forecast import methods as M
from app.services.forecast.features import to_days
from app.services.forecast.panel import Panel
from tests.unit.forecast.test_forecast_backtest import CENTRES, domain_of, synthetic

TAU = to_days(datetime(2019, 7, 1, tzinfo=UTC))


def brute(ev, tau, cell, scale):
    e = ev[ev["t"] < tau]
    own = float(np.exp(-(tau - e["t"][e["cell"] == cell]) / scale).sum())
    s = h3.int_to_str(int(cell))
    ring1 = {h3.str_to_int(c) for c in h3.grid_ring(s, 1)}
    r1 = float(np.exp(-(tau - e["t"][e["cell"].isin(ring1)]) / scale).sum())
    return own, r1


@hsettings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), n=st.integers(5, 150))
def test_decayed_counts_and_ring_sums_equal_brute_force(seed, n):
    ev = synthetic(n, seed=seed)
    rows = Panel(ev).at(TAU)
    rng = np.random.default_rng(seed)
    for i in rng.choice(len(rows.cells), size=min(8, len(rows.cells)), replace=False):
        own, r1 = brute(ev, TAU, rows.cells[i], 365.0)
        assert rows.col("dc_365")[i] == pytest.approx(own, rel=1e-9, abs=1e-12)
        assert rows.col("ring1_dc_365")[i] == pytest.approx(r1, rel=1e-9, abs=1e-12)
        n_all = int(((ev["t"] < TAU) & (ev["cell"] == rows.cells[i])).sum())
        assert rows.col("n_all")[i] == n_all


def test_candidates_are_the_cells_within_one_ring_of_an_earlier_incident():
    ev = synthetic(80, seed=2)
    rows = Panel(ev).at(TAU)
    seen = {int(c) for c in ev.loc[ev["t"] < TAU, "cell"]}
    expect = set()
    for c in seen:
        expect |= {h3.str_to_int(x) for x in h3.grid_disk(h3.int_to_str(c), 1)}
    assert set(rows.cells.tolist()) == expect
    assert np.all(np.diff(rows.cells) > 0)


def test_features_at_tau_ignore_every_later_event():
    ev = synthetic(200, seed=4)
    later = ev.copy()
    after = later["t"] >= TAU
    later.loc[after, "harm"] = 99.0
    later.loc[after, "cell"] = int(ev["cell"].iloc[0])
    a, b = Panel(ev).at(TAU), Panel(later).at(TAU)
    np.testing.assert_array_equal(a.cells, b.cells)
    np.testing.assert_array_equal(a.X, b.X)


def test_thinning_keeps_every_row_with_incidents_and_is_deterministic():
    ev = synthetic(400, seed=6)
    p = Panel(ev[ev["t"] < TAU])
    tr = learned.training_set(p, TAU, 91.0, 5000, learned.COUNT, None)
    X1, y1, w1 = tr.thinned(0.25)
    X2, y2, w2 = tr.thinned(0.25)
    np.testing.assert_array_equal(X1, X2)
    y = np.concatenate(tr.targets)
    assert (y1 > 0).sum() == (y > 0).sum()
    assert np.all(w1[y1 == 0] == 4.0) and np.all(w1[y1 > 0] == 1.0)
    # about a quarter of the empty rows are kept
    assert 0.15 < (y1 == 0).sum() / (y == 0).sum() < 0.35


@pytest.mark.parametrize("method", ["blend", "stack"])
def test_new_models_rank_the_towns_first(method):
    ev = synthetic(400, seed=8)
    dom = domain_of(ev)
    fc = M.compute(method, ev, TAU, 91.0, M.Params(len(dom), internal_calibration=False))
    for c in fc.cells[np.argsort(-fc.score)][:12]:
        lat, lng = h3.cell_to_latlng(h3.int_to_str(int(c)))
        assert min(np.hypot(lat - a, lng - b) for a, b in CENTRES) < 0.12
    assert np.all(fc.expected_incidents >= 0) and np.all(np.isfinite(fc.expected_incidents))


def test_blend_coefficients_are_non_negative_and_fit_the_level():
    rng = np.random.default_rng(1)
    X = rng.gamma(1.0, 1.0, (4000, 3))
    y = rng.poisson(0.3 * X[:, 0] + 0.05)
    coef = learned.fit_blend([X], [y.astype(float)])
    assert np.all(coef >= 0)
    assert coef[0] == pytest.approx(0.3, rel=0.15) and coef[1] < 0.05 and coef[2] < 0.05


def test_models_of_an_origin_share_one_feature_pass_and_windows_equal_brute_force():
    ev = synthetic(300, seed=9)
    panel = Panel(ev[ev["t"] < TAU + 400])
    base = panel.at(TAU)
    kern = M.context(ev[ev["t"] < TAU + 400], TAU + 400, 2).kernels(5000)
    with_etas = panel.at(TAU, kern, 91.0)
    assert with_etas.names[: len(base.names)] == base.names
    np.testing.assert_array_equal(with_etas.X[:, : len(base.names)], base.X)
    assert {"etas_short", "etas_long"} <= set(with_etas.names)
    y, (n_out, hit_out) = panel.window(TAU, 91.0)
    fut = ev[(ev["t"] >= TAU) & (ev["t"] < TAU + 91.0)]
    expect = np.array([float((fut["cell"] == c).sum()) for c in base.cells])
    np.testing.assert_array_equal(y, expect)
    out = fut.loc[~fut["cell"].isin(base.cells), "cell"]
    assert (n_out, hit_out) == (float(len(out)), out.nunique())
