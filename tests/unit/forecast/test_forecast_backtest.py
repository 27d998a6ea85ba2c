"""Backtest machinery: origins, tie-aware capture, PAI/Brier laws, and no look-ahead."""

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
from app.services.forecast.features import Forecast, to_days

CENTRES = [(4.37, 18.56), (6.5, 21.99), (7.3, 22.7), (5.76, 20.67)]


def synthetic(n: int = 240, seed: int = 1, res: int = 6) -> pd.DataFrame:
    """Clustered events around a few towns over 2015-2020."""
    rng = np.random.default_rng(seed)
    start = to_days(datetime(2015, 1, 1, tzinfo=UTC))
    rows = []
    for _ in range(n):
        lat, lng = CENTRES[rng.integers(len(CENTRES))]
        cell = h3.latlng_to_cell(lat + rng.normal(0, 0.05), lng + rng.normal(0, 0.05), res)
        rows.append(
            {
                "t": start + rng.uniform(0, 6 * 365),
                "cell": h3.str_to_int(cell),
                "harm": float(rng.poisson(2)),
                "category": "killing",
                "perpetrator_type": "non_state_armed_group",
            }
        )
    return pd.DataFrame(rows).sort_values("t", kind="stable").reset_index(drop=True)


def domain_of(ev: pd.DataFrame) -> np.ndarray:
    cells = {int(c) for c in ev["cell"]}
    for c in list(cells):
        cells.update(h3.str_to_int(x) for x in h3.grid_disk(h3.int_to_str(c), 3))
    return np.array(sorted(cells), np.int64)


def test_quarterly_origins_cover_2014_to_2022():
    periods = bt.origins(date(2014, 1, 1), date(2022, 12, 31), "quarter")
    assert len(periods) == 36
    assert periods[0] == (datetime(2014, 1, 1, tzinfo=UTC), datetime(2014, 4, 1, tzinfo=UTC))
    assert periods[-1][1] == datetime(2023, 1, 1, tzinfo=UTC)
    assert all(a[1] == b[0] for a, b in zip(periods, periods[1:], strict=False))


def test_four_week_origins_step_28_days():
    periods = bt.origins(date(2020, 1, 1), date(2020, 12, 31), "4weeks")
    assert len(periods) == 14 and all((e - o).days == 28 for o, e in periods)
    with pytest.raises(ValueError):
        bt.origins(date(2020, 1, 1), date(2020, 2, 1), "fortnight")


@given(st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=60), st.data())
@settings(max_examples=60, deadline=None)
def test_capture_laws(scores, data):
    score = np.array(scores)
    value = np.array(
        data.draw(st.lists(st.integers(0, 5), min_size=len(scores), max_size=len(scores))), float
    )
    n = len(score)
    assert bt.captured(score, value, n) == pytest.approx(value.sum())
    assert bt.captured(score, value, 0) == 0
    ks = sorted(data.draw(st.lists(st.floats(0, n), min_size=2, max_size=2)))
    assert bt.captured(score, value, ks[0]) <= bt.captured(score, value, ks[1]) + 1e-9
    # all tied: capture is exactly the area share (no credit for arbitrary ordering)
    flat = np.zeros(n)
    assert bt.captured(flat, value, ks[0]) == pytest.approx(ks[0] / n * value.sum())


def _fc(scores: np.ndarray, cells: np.ndarray) -> Forecast:
    return Forecast("x", cells, scores, scores, scores)


def test_perfect_and_uniform_forecasts_bound_pai():
    cells = np.arange(1000, dtype=np.int64)
    counts = np.zeros(1000)
    counts[:5] = 2  # all incidents in 5 cells = 0.5% of area
    perfect, flat = bt.Tally(), bt.Tally()
    perfect.add(_fc(counts.copy(), cells), counts, counts, counts.sum(), counts.sum())
    flat.add(_fc(np.full(1000, 0.01), cells), counts, counts, counts.sum(), counts.sum())
    assert perfect.summary()["pai_1pct"] == pytest.approx(100.0)
    assert perfect.summary()["harm_capture_1pct"] == pytest.approx(1.0)
    assert flat.summary()["pai_1pct"] == pytest.approx(1.0)
    # Brier: a confident right answer beats a flat hedge
    sharp = bt.Tally()
    sharp.add(_fc(np.where(counts > 0, 20.0, 0.0), cells), counts, counts, 10, 10)
    assert sharp.summary()["brier"] < flat.summary()["brier"]
    rel = sharp.summary()["reliability"]
    assert sum(r["cells"] for r in rel) == 1000


def test_incidents_outside_the_domain_count_but_cannot_be_captured():
    ev = synthetic(60)
    dom = domain_of(ev)
    far = h3.str_to_int(h3.latlng_to_cell(-30.0, 150.0, 6))
    extra = pd.DataFrame(
        [
            {
                "t": to_days(datetime(2021, 2, 1, tzinfo=UTC)),
                "cell": far,
                "harm": 1.0,
                "category": "killing",
                "perpetrator_type": "unknown",
            }
        ]
    )
    periods = [(datetime(2021, 1, 1, tzinfo=UTC), datetime(2021, 4, 1, tzinfo=UTC))]
    fn = {"history": lambda e, o, h: M.compute("history", e, o, h, M.Params(len(dom)))}
    base = bt.run(ev, dom, periods, fn)
    more = bt.run(pd.concat([ev, extra]).sort_values("t"), dom, periods, fn)
    assert more["incidents"] == base["incidents"] + 1


@pytest.mark.parametrize("method", M.METHODS)
def test_no_incident_after_the_origin_can_change_its_forecast(method):
    ev = synthetic(240)
    dom = domain_of(ev)
    origin = to_days(datetime(2019, 7, 1, tzinfo=UTC))
    p = M.Params(n_domain=len(dom))
    before = M.compute(method, ev, origin, 91.0, p).on(dom)
    later = ev.copy()
    after = later["t"] >= origin
    assert after.any()
    # change every later incident (place, time, harm) and add a burst right at the origin
    later.loc[after, "cell"] = int(dom[0])
    later.loc[after, "harm"] = 99.0
    burst = later[~after].tail(20).assign(t=origin, harm=50.0)
    changed = pd.concat([later, burst]).sort_values("t", kind="stable").reset_index(drop=True)
    again = M.compute(method, changed, origin, 91.0, p).on(dom)
    np.testing.assert_array_equal(before.expected_incidents, again.expected_incidents)
    np.testing.assert_array_equal(before.expected_harm, again.expected_harm)
    np.testing.assert_array_equal(before.p_incident, again.p_incident)


def test_run_hands_each_method_only_earlier_events():
    ev = synthetic(120)
    seen: list[tuple[float, float]] = []

    def spy(e: pd.DataFrame, o: float, h: float) -> Forecast:
        seen.append((float(e["t"].max()), o))
        return M.compute("decay", e, o, h, M.Params(100))

    periods = bt.origins(date(2017, 1, 1), date(2019, 12, 31), "quarter")
    bt.run(ev, domain_of(ev), periods, {"spy": spy})
    assert len(seen) == len(periods) and all(latest < o for latest, o in seen)
