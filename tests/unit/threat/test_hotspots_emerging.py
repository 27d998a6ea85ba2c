"""Emerging hot-spot analysis: the vectorised statistics equal esda's and pymannkendall's, and each
Esri class comes out of a series crafted for it."""

import h3
import numpy as np
import pymannkendall as mk
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.threat import emerging


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=3, max_size=30))
def test_mann_kendall_matches_pymannkendall(series):
    s, z, p = emerging.mann_kendall(np.array([series], dtype=float))
    ref = mk.original_test(series)
    assert s[0] == pytest.approx(ref.s)
    assert z[0] == pytest.approx(ref.z, abs=1e-9)
    assert p[0] == pytest.approx(ref.p, abs=1e-9)


def test_gi_star_matches_esda():
    from esda.getisord import G_Local
    from libpysal.weights import W

    rng = np.random.default_rng(5)
    cells = [h3.str_to_int(c) for c in h3.grid_disk(h3.latlng_to_cell(4.4, 18.6, 6), 4)]
    values = rng.poisson(2.0, size=(len(cells), 1)).astype(float)
    w = emerging.neighbour_matrix(cells, 1)
    z = emerging.gi_star(values, w)[:, 0]
    neighbours = {i: [j for j in w[i].indices if j != i] for i in range(len(cells))}
    ref = G_Local(values[:, 0], W(neighbours), transform="B", star=True, permutations=0)
    assert np.allclose(z, ref.Zs, atol=1e-9)


def _bins(marks):
    """'H' hot, 'C' cold, '.' nothing -> (z, significant) rows for classify()."""
    z = np.array([[3.0 if m == "H" else -3.0 if m == "C" else 0.0 for m in marks]])
    return z, np.array([[m != "." for m in marks]])


CRAFTED = {
    "new hot spot": "..........H",
    "consecutive hot spot": "........HHH",
    "sporadic hot spot": "..H..H..H.H",
    "oscillating hot spot": "..C..H....H",
    "historical hot spot": "HHHHHHHHHH.",
    "persistent hot spot": "HHHHHHHHHHH",
    "new cold spot": "..........C",
    "consecutive cold spot": "........CCC",
    "sporadic cold spot": ".C..C....CC",
    "oscillating cold spot": "H.........C",
    "historical cold spot": "CCCCCCCCCC.",
    "persistent cold spot": "CCCCCCCCCCC",
    "no pattern": "...........",
}


@pytest.mark.parametrize(("pattern", "marks"), CRAFTED.items())
def test_crafted_series_give_their_class(pattern, marks):
    z, sig = _bins(marks)
    assert emerging.classify(z, sig, 0.05) == [pattern]


@pytest.mark.parametrize(("pattern", "first", "last"), [
    ("intensifying hot spot", 3, 8), ("diminishing hot spot", 8, 3),
    ("intensifying cold spot", -3, -8), ("diminishing cold spot", -8, -3)])
def test_trending_persistent_spots(pattern, first, last):
    z = np.linspace(first, last, 12)[None, :]  # significant every step, clustering trending
    assert emerging.classify(z, np.ones_like(z, dtype=bool), 0.05) == [pattern]


def test_a_new_cluster_on_the_cube_is_a_new_hot_spot():
    """End to end: background noise for 12 weeks, then a burst around one cell in the last."""
    rng = np.random.default_rng(1)
    centre = h3.latlng_to_cell(4.4, 18.6, 6)
    cells = [h3.str_to_int(c) for c in h3.grid_disk(centre, 6)]
    series = rng.poisson(0.3, size=(len(cells), 12)).astype(float)
    series[:, :11] = np.minimum(series[:, :11], 1)
    burst = {h3.str_to_int(c) for c in h3.grid_disk(centre, 1)}
    for i, c in enumerate(cells):
        if c in burst:
            series[i, -1] = 12
    patterns = emerging.emerging_patterns(cells, series, k=1, alpha=0.05)
    assert patterns[cells.index(h3.str_to_int(centre))] == "new hot spot"
    assert set(patterns) <= set(emerging.PATTERNS)


def test_vectorised_fdr_equals_scipy_per_step():
    from scipy.stats import false_discovery_control

    from app.services.threat.emerging import bh_adjusted

    rng = np.random.default_rng(4)
    p = rng.uniform(0, 1, (300, 12)) ** 3
    p[:5] = 1e-6  # ties
    got = bh_adjusted(p)
    for t in range(p.shape[1]):
        assert np.allclose(got[:, t], false_discovery_control(p[:, t], method="bh"), rtol=1e-12)
