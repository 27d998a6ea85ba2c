"""The backtest's ceiling diagnostic: clairvoyant oracles bound every method's PAI."""

from __future__ import annotations

from datetime import UTC, date, datetime

import h3
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.forecast import backtest as bt
from app.services.forecast import methods as M
from app.services.forecast.features import to_days
from tests.unit.forecast.test_forecast_backtest import domain_of, synthetic


def _bound(ev: pd.DataFrame, names: tuple[str, ...], periods) -> dict:
    dom = domain_of(ev)
    p = M.Params(n_domain=len(dom))

    def bind(m: str) -> bt.Method:
        return lambda e, o, h: M.compute(m, e, o, h, p)

    return bt.run(ev, dom, periods, {m: bind(m) for m in names})


def _check(result: dict) -> None:
    ceiling = result["ceiling"]
    top, hit, near = (ceiling[s] for s in bt.CEILING_SETS)
    for tag in ("pai_1pct", "pai_5pct"):
        # a wider choice can only help the oracle
        assert top[tag] >= near[tag] >= hit[tag]
        for name, m in result["methods"].items():
            assert m[tag] <= top[tag] + 1e-9, (name, tag)
        # decay and history rank exactly the previously hit cells: bounded by that oracle
        for name in ("decay", "history"):
            assert result["methods"][name][tag] <= hit[tag] + 1e-9, (name, tag)
    assert hit["share_of_incidents_in_set"] <= near["share_of_incidents_in_set"] <= 1.0


def test_oracles_bound_every_method_on_a_synthetic_case():
    ev = synthetic(300, seed=4)
    periods = bt.origins(date(2018, 1, 1), date(2020, 10, 1), "quarter")
    result = _bound(ev, M.METHODS, periods)
    _check(result)
    assert result["ceiling"]["any_cell"]["pai_1pct"] > 0


@given(st.integers(0, 10_000), st.integers(40, 200))
@settings(max_examples=15, deadline=None)
def test_oracles_bound_the_baselines_on_random_data(seed, n):
    ev = synthetic(n, seed=seed)
    periods = bt.origins(date(2019, 1, 1), date(2020, 10, 1), "quarter")
    _check(_bound(ev, M.BASELINES, periods))


def test_previously_hit_oracle_takes_the_hit_cells_then_chance_like_any_method():
    """With fewer hit cells than 1% of the area, the restricted oracle captures the incidents in
    previously hit cells, and the rest of its 1% draws at random from the other cells."""
    cells = [h3.str_to_int(h3.latlng_to_cell(5.0 + 0.2 * i, 20.0, 6)) for i in range(3)]
    t0 = to_days(datetime(2020, 1, 1, tzinfo=UTC))
    rows = [(t0 - 50, cells[0]), (t0 + 10, cells[0]), (t0 + 20, cells[0]), (t0 + 30, cells[1])]
    ev = pd.DataFrame(
        {
            "t": [t for t, _ in rows],
            "cell": np.array([c for _, c in rows], np.int64),
            "harm": 1.0,
            "category": "killing",
            "perpetrator_type": "unknown",
        }
    )
    dom = np.array(
        sorted({h3.str_to_int(x) for c in cells for x in h3.grid_disk(h3.int_to_str(c), 12)}),
        np.int64,
    )
    assert 0.01 * len(dom) >= 2
    periods = [(datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 4, 1, tzinfo=UTC))]
    fn = {"history": lambda e, o, h: M.compute("history", e, o, h, M.Params(len(dom)))}
    result = bt.run(ev, dom, periods, fn)
    hit = result["ceiling"]["previously_hit"]
    assert hit["share_of_incidents_in_set"] == pytest.approx(2 / 3, abs=1e-4)
    k = 0.01 * len(dom)
    expected = (2 + (k - 1) / (len(dom) - 1) * 1) / 3 / 0.01
    assert hit["pai_1pct"] == pytest.approx(expected, abs=0.01)
    assert result["ceiling"]["any_cell"]["pai_1pct"] == pytest.approx(100.0)
    assert result["methods"]["history"]["pai_1pct"] == pytest.approx(hit["pai_1pct"])
