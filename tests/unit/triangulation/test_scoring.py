"""The pair score: bounded, falls with distance and time, respects each side's precision, never
pairs two rows of one import source."""

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.triangulation import accounts as acc
from app.services.triangulation.matcher import candidate_pairs
from app.services.triangulation.names import AliasTable
from app.services.triangulation.scoring import ScoreParams, score_pairs

T0 = datetime(2014, 1, 22, tzinfo=UTC)


def account(lat=4.36, lon=18.56, radius=1000, start=T0, end=None, category="killing",
            perps=("Seleka",), fat=5.0, narrative=None, source=None, cites=(), key=None, text=None):
    row = {"id": key or "x", "external_source": source, "longitude": lon, "latitude": lat,
           "location_radius_m": radius, "occurred_start": start, "occurred_end": end,
           "category": category, "perpetrators": list(perps), "fatalities_best": fat,
           "fatalities_low": None, "fatalities_high": None, "narrative": narrative, "cites": list(cites)}
    if text is not None:
        row["text"] = text
    return acc.from_rows([row]).resolve(AliasTable())


def score(a, b, params=None):
    return float(score_pairs(a, b, np.array([0]), np.array([0]), params).score[0])


@settings(max_examples=60, deadline=None)
@given(km=st.floats(0, 60), days=st.integers(0, 3), fat=st.integers(0, 50))
def test_bounded_and_falls_with_distance_and_time(km, days, fat):
    base = account()
    here = account(lat=4.36 + km / 111.0, start=T0 + timedelta(days=days), fat=float(fat))
    farther = account(lat=4.36 + (km + 5) / 111.0, start=T0 + timedelta(days=days), fat=float(fat))
    later = account(lat=4.36 + km / 111.0, start=T0 + timedelta(days=days + 1), fat=float(fat))
    s = score(base, here)
    assert 0.0 <= s <= 1.0
    assert score(base, farther) <= s
    assert score(base, later) <= s


def test_a_province_centroid_is_weak_evidence_however_close():
    village = account(radius=1000)
    assert score(village, account(radius=2000)) > score(village, account(radius=150_000))


def test_a_month_long_range_proves_less_than_a_day():
    day = account()
    month = account(start=datetime(2014, 1, 1, tzinfo=UTC), end=datetime(2014, 1, 31, tzinfo=UTC))
    assert score(day, account()) > score(day, month)


def test_fatalities_within_the_reported_range_agree():
    ucdp = acc.from_rows([{"id": "u", "external_source": "ucdp", "longitude": 18.56, "latitude": 4.36,
                           "location_radius_m": 1000, "occurred_start": T0, "occurred_end": None,
                           "category": "killing", "perpetrators": ["Seleka"], "fatalities_best": 800,
                           "fatalities_low": 450, "fatalities_high": 1200, "narrative": None,
                           "cites": []}]).resolve(AliasTable())
    s = score_pairs(ucdp, account(fat=500.0), np.array([0]), np.array([0]))
    assert s.fatalities[0] == 1.0


def test_a_shared_outlet_is_evidence():
    a = account(cites=("afp",))
    assert score(a, account(cites=("afp", "rfi"))) > score(a, account(cites=("hrw",)))


def test_rows_of_one_source_are_never_paired():
    a, b = account(source="ucdp"), account(source="ucdp")
    assert len(candidate_pairs(a, b, np.array([0]), np.array([0]), ScoreParams())) == 0
    staff = account(source=None)
    assert len(candidate_pairs(staff, b, np.array([0]), np.array([0]), ScoreParams())) == 1


def test_the_gate_uses_both_radii():
    params = ScoreParams(slack_km=10)
    precise = account(radius=1000)
    far = account(lat=4.36 + 60 / 111.0, radius=1000)  # 60 km away
    far_imprecise = account(lat=4.36 + 60 / 111.0, radius=150_000)
    assert len(candidate_pairs(precise, far, np.array([0]), np.array([0]), params)) == 0
    assert len(candidate_pairs(precise, far_imprecise, np.array([0]), np.array([0]), params)) == 1


def test_alert_profile_needs_the_category_or_a_similar_text():
    params = ScoreParams(slack_km=5, slack_days=3, text_in_place_of_names=True, text_gate=0.6)
    incident = account(narrative="Two men killed at the market", perps=())
    same_cat = account(category="killing", text="killings", perps=(), fat=float("nan"))
    other_cat = account(category="displacement", text="families fled", perps=(), fat=float("nan"))
    similar = account(category="injury", text="two men killed at the market", perps=(), fat=float("nan"))
    assert score(same_cat, incident, params) > 0.7
    assert score(other_cat, incident, params) == 0.0
    assert score(similar, incident, params) > 0.7
