"""The forecast shapes plans: the objective blends current threat with forecast expected harm,
so a cell where violence is expected wins a patrol it would not get on current threat alone;
with weight 0 the plan is exactly the plan without a forecast."""

from __future__ import annotations

from datetime import date

import h3
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from app.services.planning.footprint_review import review
from app.services.planning.forecast_weight import blend, default_weight
from app.services.planning.patrol_plan import make_plan
from tests.unit.planning.test_patrols_planner import S, bases_near, cells_near

ON = date(2019, 1, 15)
BASE = {"id": "b1", "name": "Bambari", "latitude": 5.76, "longitude": 20.67,
        "road_patrols_per_day": 1, "foot_patrols_per_day": 0, "qrf_standby": 0}
# Two cells within road reach of the base: one with high current threat that is fading, one
# with low current threat where the forecast expects most harm (rising).
FADING = h3.latlng_to_cell(5.90, 20.70, 7)
RISING = h3.latlng_to_cell(5.60, 20.60, 7)
CELLS = [
    {"cell": FADING, "threat_score": 70.0, "threat_level": "high",
     "trend": {"direction": "decreasing", "slope": -1.0}},
    {"cell": RISING, "threat_score": 20.0, "threat_level": "low"},
]
FORECAST = {
    FADING: {"expected_harm": 0.3, "p_incident": 0.10},
    RISING: {"expected_harm": 6.0, "p_incident": 0.70},
}


def patrolled(plan: dict) -> set[str]:
    return {t["cell_ids"][0] for t in plan["tasks"]}


def test_a_cell_with_rising_forecast_wins_the_patrol_it_would_not_get_on_current_threat():
    # one patrol for one day: exactly one of the two cells can be visited
    without = make_plan([dict(c) for c in CELLS], {}, [BASE], ON, 1, S)
    assert patrolled(without) == {FADING}
    with_forecast = make_plan([dict(c) for c in CELLS], {}, [BASE], ON, 1, S,
                              forecast=FORECAST, forecast_weight=0.5)
    assert patrolled(with_forecast) == {RISING}
    assert with_forecast["summary"]["forecast_weight"] == 0.5
    # the forecast's share of the objective decides: a small weight keeps the current picture
    small = make_plan([dict(c) for c in CELLS], {}, [BASE], ON, 1, S,
                      forecast=FORECAST, forecast_weight=0.1)
    assert patrolled(small) == {FADING}


def test_a_cell_without_current_threat_joins_the_plan_when_violence_is_likely_there():
    new = h3.latlng_to_cell(5.70, 20.80, 7)
    forecast = {**FORECAST, new: {"expected_harm": 9.0, "p_incident": 0.8}}
    plan = make_plan([dict(c) for c in CELLS], {}, [BASE], ON, 1, S, forecast=forecast,
                     forecast_weight=0.6)
    assert patrolled(plan) == {new}
    task = plan["tasks"][0]
    assert task["desired_effect"] == "deter" and "forecast" in task["reason"]
    assert task["forecast"]["p_incident"] == 0.8
    # unlikely cells do not: below the minimum P(>=1) the forecast adds no cell
    unlikely = {**FORECAST, new: {"expected_harm": 9.0, "p_incident": S.planning_forecast_min_p / 2}}
    plan = make_plan([dict(c) for c in CELLS], {}, [BASE], ON, 1, S, forecast=unlikely,
                     forecast_weight=0.6)
    assert new not in patrolled(plan)


@hsettings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_weight_zero_is_the_plan_without_forecast(seed):
    cells = cells_near(25, seed)
    bases = bases_near(3, seed)
    rng = np.random.default_rng(seed)
    forecast = {c["cell"]: {"expected_harm": float(rng.gamma(1.0)), "p_incident": 0.5}
                for c in cells_near(30, seed + 1)}
    plain = make_plan([dict(c) for c in cells], {}, bases, ON, 2, S)
    zero = make_plan([dict(c) for c in cells], {}, bases, ON, 2, S, forecast=forecast,
                     forecast_weight=0.0)
    assert [t["cell_ids"] for t in zero["tasks"]] == [t["cell_ids"] for t in plain["tasks"]]
    assert zero["summary"]["threat_covered"] == plain["summary"]["threat_covered"]


@hsettings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), weight=st.floats(0.01, 1.0))
def test_blend_is_a_convex_mix_of_threat_and_forecast_shares(seed, weight):
    cells = cells_near(20, seed)
    rng = np.random.default_rng(seed)
    forecast = {c["cell"]: {"expected_harm": float(rng.gamma(1.0)), "p_incident": 0.5}
                for c in cells}
    out, w = blend([dict(c) for c in cells], forecast, weight, 0.1)
    assert [c["cell"] for c in out] == sorted(c["cell"] for c in cells)
    assert w.sum() == pytest.approx(1.0) and np.all(w >= 0)
    threat = np.asarray([c["threat_score"] for c in out])
    harm = np.asarray([forecast[c["cell"]]["expected_harm"] for c in out])
    expect = (1 - weight) * threat / threat.sum() + weight * harm / harm.sum()
    np.testing.assert_allclose(w, expect)


def test_footprint_coverage_weighs_the_forecast_and_moves_the_proposed_site():
    # no base reaches either cell; one temporary base may be proposed, near one of them
    far_a = {"cell": h3.latlng_to_cell(8.0, 17.0, 6), "threat_score": 60.0, "threat_level": "high"}
    far_b = {"cell": h3.latlng_to_cell(6.5, 24.5, 6), "threat_score": 30.0, "threat_level": "high"}
    forecast = {far_a["cell"]: {"expected_harm": 0.2, "p_incident": 0.1},
                far_b["cell"]: {"expected_harm": 8.0, "p_incident": 0.8}}
    without = review([dict(far_a), dict(far_b)], [BASE], ON, S, p=1)
    assert without["candidates"][0]["cell"] == far_a["cell"]
    assert without["summary"]["forecast_weight"] == 0.0
    with_fc = review([dict(far_a), dict(far_b)], [BASE], ON, S, p=1, forecast=forecast,
                     forecast_weight=0.7)
    assert with_fc["candidates"][0]["cell"] == far_b["cell"]
    # figures stay in threat units: the blended weights sum to the threat total
    assert with_fc["summary"]["threat_total"] == pytest.approx(90.0)


def test_default_weight_comes_from_the_model_card_else_the_setting():
    assert default_weight({"forecast_weight": {"default": 0.75}}, S)[0] == 0.75
    assert default_weight(None, S)[0] == S.planning_forecast_weight
    assert default_weight({"forecast_weight": None}, S)[0] == S.planning_forecast_weight
