"""Footprint review laws: closing a base never increases coverage, adding one never decreases
it, the candidate choice is the best set of p (brute force) and the same input gives the same
answer."""

from __future__ import annotations

import itertools
from datetime import date

import h3
import numpy as np
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from app.services.planning.footprint_review import covered_threat, mclp, review
from app.services.planning.reach import coverage_sets
from app.settings import Settings
from tests.unit.planning.test_patrols_planner import bases_near, cells_near

S = Settings()
ON = date(2017, 3, 1)


def weights(cells):
    return np.asarray([c["threat_score"] for c in cells])


def centres(cells):
    return [h3.cell_to_latlng(c["cell"]) for c in cells]


@hsettings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n_bases=st.integers(1, 5))
def test_closing_never_increases_and_adding_never_decreases(seed, n_bases):
    cells = cells_near(40, seed, spread=1.5)
    bases = bases_near(n_bases + 1, seed)
    w = weights(cells)
    sets = coverage_sets(bases, centres(cells), ON, S)
    full = covered_threat(w, sets)
    for k in range(len(bases)):
        without = sets[:k] + sets[k + 1 :]
        assert covered_threat(w, without) <= full + 1e-9
    assert covered_threat(w, sets[:-1]) <= covered_threat(w, sets) + 1e-9
    r = review(cells, bases, ON, S, p=0)
    for row in r["bases"]:
        k = next(i for i, b in enumerate(bases) if b["id"] == row["id"])
        lost = full - covered_threat(w, sets[:k] + sets[k + 1 :])
        assert abs(row["coverage_lost_if_closed"] - round(lost, 3)) < 1e-6
        assert row["coverage_lost_if_closed"] <= row["threat_in_reach"] + 1e-9


@hsettings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(1, 7), p=st.integers(1, 3))
def test_mclp_equals_brute_force(seed, m, p):
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 20, size=15).astype(float)
    sets = [np.flatnonzero(rng.random(15) < 0.3) for _ in range(m)]
    chosen, status = mclp(w, sets, p)
    assert status == "optimal" and len(chosen) <= p

    def value(js):
        idx = np.unique(np.concatenate([sets[j] for j in js])) if js else np.zeros(0, int)
        return float(w[idx].sum())

    best = max(value(list(c)) for k in range(p + 1) for c in itertools.combinations(range(m), k))
    assert abs(value(chosen) - best) < 1e-6


def test_review_is_deterministic_and_candidates_add_coverage():
    cells = cells_near(300, 11, spread=3.0)
    bases = bases_near(3, 11)
    a = review(cells, bases, ON, S, p=3)
    b = review(list(reversed(cells)), bases, ON, S, p=3)
    assert a == b
    s = a["summary"]
    assert s["threat_covered_share_with_candidates"] >= s["threat_covered_share"]
    gains = [c["new_threat_covered"] for c in a["candidates"]]
    assert gains == sorted(gains, reverse=True) and all(g > 0 for g in gains)
    # every uncovered high-threat cell lies beyond every base's reach
    covered = set().union(
        *[
            set(x.tolist())
            for x in coverage_sets(bases, centres(sorted(cells, key=lambda c: c["cell"])), ON, S)
        ]
    )
    ordered = sorted(c["cell"] for c in cells)
    for f in a["uncovered"]["features"]:
        assert ordered.index(f["id"]) not in covered
        assert f["properties"]["threat_level"] in ("high", "critical")


def test_supplied_towns_as_candidates_and_forecast_share():
    cells = cells_near(50, 2, spread=1.0)
    towns = [
        {"name": "Far away", "latitude": 10.0, "longitude": 23.0},
        {"name": "Right here", "latitude": 5.76, "longitude": 20.67},
    ]
    forecast = {c["cell"]: {"expected_harm": 1.0} for c in cells}
    r = review(cells, [], ON, S, p=1, candidates=towns, forecast=forecast)
    assert [c["name"] for c in r["candidates"]] == ["Right here"]
    assert r["summary"]["threat_covered_share"] == 0.0
    assert r["summary"]["forecast_covered_share"] == 0.0  # no base: no forecast harm covered
    assert len(r["uncovered"]["features"]) == sum(
        1 for c in cells if c["threat_level"] in ("high", "critical")
    )
