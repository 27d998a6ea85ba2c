"""Laws of the threat score (pure service)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from app.services.threat import score as scoring
from app.settings import Settings

S = Settings()
SPEC = scoring.weight_spec(S)
counts = st.integers(0, 500)
harms = st.floats(0, 1e4, allow_nan=False)


@given(harms, harms, st.floats(0, 1e3), st.floats(0, 1e3))
def test_more_harm_never_lowers_the_score(harm, crsv, extra_harm, extra_crsv):
    base = scoring.threat_score(harm, crsv, S)
    assert scoring.threat_score(harm + extra_harm, crsv, S) >= base
    assert scoring.threat_score(harm, crsv + extra_crsv, S) >= base
    assert 0 <= base <= 100


@given(counts, counts, counts, counts, st.integers(0, 20))
def test_each_victim_adds_harm(fat, inj, child, disp, bump):
    h = scoring.event_harm(fat, inj, child, disp, SPEC)
    assert h >= 1
    assert scoring.event_harm(fat + bump, inj, child, disp, SPEC) >= h
    assert scoring.event_harm(fat, inj + bump, child, disp, SPEC) >= h
    assert scoring.event_harm(fat, inj, child + bump, disp, SPEC) >= h
    assert scoring.event_harm(fat, inj, child, disp + bump, SPEC) >= h


@given(st.floats(0, 3650), st.floats(0, 3650))
def test_decay_is_monotone_in_age(a, b):
    young, old = min(a, b), max(a, b)
    assert scoring.decay(young, SPEC) >= scoring.decay(old, SPEC)
    assert 0 < scoring.decay(old, SPEC) <= 1


def test_rejected_weighs_nothing_and_unvalidated_less():
    assert scoring.credibility("rejected", "a", SPEC) == 0
    assert (scoring.credibility("entered", "a", SPEC) < scoring.credibility("validated", "a", SPEC)
            < scoring.credibility("approved", "a", SPEC))
    assert scoring.credibility("approved", "c", SPEC) < scoring.credibility("approved", "a", SPEC)


@given(st.floats(0, 1e5, allow_nan=False))
def test_sexual_violence_never_vanishes_under_killings(killing_harm):
    """One recent CRSV survivor raises any cell's score by a fixed share of what is left."""
    without = scoring.threat_score(killing_harm, 0, S)
    with_crsv = scoring.threat_score(killing_harm, 1.0, S)
    share = 1 - np.exp(-1.0 / S.threat_crsv_saturation)
    assert with_crsv - without >= (100 - without) * share - 1e-9
    assert scoring.event_crsv("sexual_violence", 0, SPEC) == 1  # counted even without a number


def test_levels_and_tiers():
    t = S.threat_level_thresholds
    assert [scoring.level(x, t) for x in (0, 24.9, 25, 50, 74.9, 75, 100)] == [
        "low", "low", "medium", "high", "high", "critical", "critical"]
    assert scoring.TIER_OF_LEVEL["critical"] == "must" and scoring.TIER_OF_LEVEL["low"] == "could"


@given(st.lists(st.integers(0, 9), min_size=2, max_size=60))
def test_trend_slope_is_the_least_squares_slope(series):
    steps = len(series)
    mean = (steps - 1) / 2
    num = sum(c * (x - mean) for x, c in enumerate(series))
    slope = scoring.trend(num, steps, 7)["slope"]
    assert abs(slope - np.polyfit(np.arange(steps), series, 1)[0]) < 1e-3


def test_precision_limit_grows_with_the_cell():
    limits = [scoring.max_radius_m(r, S) for r in range(4, 10)]
    assert limits == sorted(limits, reverse=True)
    assert limits[0] > 25_000 > limits[1]  # a 25 km event counts at res 4, not at res 5
