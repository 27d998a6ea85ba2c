"""Footprint reviews through HTTP: contract fields, the dated bases, closing/adding laws on the
live endpoint, towns as candidates, determinism, GeoJSON, forecasts and bad input."""

from __future__ import annotations

import pytest

from tests.api.planning.test_patrols_api import FAR, count, seed
from tests.conftest import incident_body

REVIEW = {"as_of": "2024-03-10", "p": 2, "res": 6}


async def add_far_violence(client, auth):
    for day in (2, 4, 6):  # Ndele area: beyond both bases
        r = await client.post(
            "/api/v1/incidents",
            headers=auth("analyst"),
            json=incident_body(
                occurred_start=f"2024-03-0{day}T10:00:00Z",
                latitude=8.41,
                longitude=20.65,
                fatalities_best=6,
            ),
        )
        assert r.status_code == 201


async def test_review_contract_and_laws(client, auth):
    bambari, birao = await seed(client, auth)
    await add_far_violence(client, auth)
    r = await client.post("/api/v1/footprint-reviews", json=REVIEW, headers=auth("analyst"))
    assert r.status_code == 200, r.text
    rev = r.json()
    rows = {b["name"]: b for b in rev["bases"]}
    assert set(rows) == {"Bambari", "Birao"}
    assert rows["Bambari"]["threat_in_reach"] > 0
    assert rows["Bambari"]["coverage_lost_if_closed"] == rows["Bambari"]["threat_in_reach"]
    assert rows["Birao"]["threat_in_reach"] == 0
    assert rev["uncovered"]["type"] == "FeatureCollection"
    total = rev["summary"]["threat_total"]
    assert rev["summary"]["threat_covered_share"] == round(
        rows["Bambari"]["threat_in_reach"] / total, 4
    )
    assert rev["candidates"] and rev["candidates"][0]["new_threat_covered"] > 0
    assert rev["summary"]["threat_covered_share_with_candidates"] == 1.0
    again = await client.post("/api/v1/footprint-reviews", json=REVIEW, headers=auth("operations"))
    assert again.json() == rev
    # closing Bambari (as of before it opened a second base) never adds coverage
    r = await client.patch(
        f"/api/v1/bases/{bambari}", json={"closed_on": "2024-03-01"}, headers=auth("admin")
    )
    closed = (
        await client.post("/api/v1/footprint-reviews", json=REVIEW, headers=auth("analyst"))
    ).json()
    assert closed["summary"]["threat_covered"] <= rev["summary"]["threat_covered"]
    assert [b["name"] for b in closed["bases"]] == ["Birao"]
    # adding a base at Ndele never removes coverage
    r = await client.post(
        "/api/v1/bases",
        headers=auth("admin"),
        json={**FAR, "name": "Ndele", "latitude": 8.41, "longitude": 20.65},
    )
    assert r.status_code == 201
    added = (
        await client.post("/api/v1/footprint-reviews", json=REVIEW, headers=auth("analyst"))
    ).json()
    assert added["summary"]["threat_covered"] >= closed["summary"]["threat_covered"]


async def test_towns_as_candidates_and_geojson(client, auth):
    await seed(client, auth)
    await add_far_violence(client, auth)
    towns = [
        {"name": "Ndele", "latitude": 8.41, "longitude": 20.65},
        {"name": "Obo", "latitude": 5.40, "longitude": 26.49},
    ]
    r = await client.post(
        "/api/v1/footprint-reviews?f=geojson",
        headers=auth("analyst"),
        json={**REVIEW, "p": 1, "candidates": towns},
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    kinds = [f["properties"]["feature"] for f in r.json()["features"]]
    assert kinds.count("base") == 2 and kinds.count("candidate") == 1
    cand = next(f for f in r.json()["features"] if f["properties"]["feature"] == "candidate")
    assert cand["properties"]["name"] == "Ndele"


async def test_review_and_plan_with_forecast(client, auth, conn):
    await seed(client, auth)
    r = await client.post(
        "/api/v1/footprint-reviews", headers=auth("analyst"), json={**REVIEW, "use_forecast": True}
    )
    assert r.status_code == 200, r.text
    assert 0 < r.json()["summary"]["forecast_covered_share"] <= 1
    bambari = next(b for b in r.json()["bases"] if b["name"] == "Bambari")
    assert bambari["forecast_harm_in_reach"] > 0
    r = await client.post(
        "/api/v1/patrol-plans",
        headers=auth("operations"),
        json={"as_of": "2024-03-10", "horizon_days": 7, "use_forecast": True},
    )
    assert r.status_code == 200 and r.json()["summary"]["forecast_covered_share"] is not None
    before = count(conn)
    r = await client.post(
        "/api/v1/footprint-reviews",
        headers=auth("analyst"),
        json={**REVIEW, "use_forecast": True, "forecast_method": "crystal-ball"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/forecast_method"
    assert count(conn) == before


BAD = [
    ({"as_of": "1990-01-01"}, "/body/as_of"),
    ({"p": -1}, "/body/p"),
    ({"p": 99}, "/body/p"),
    (
        {"candidates": [{"name": "x", "latitude": 100, "longitude": 1}]},
        "/body/candidates/0/latitude",
    ),
    ({"window_days": 0}, "/body/window_days"),
    ({"horizon_days": 0}, "/body/horizon_days"),
]


@pytest.mark.parametrize("over,pointer", BAD, ids=[p for _, p in BAD])
async def test_bad_review_is_422_and_writes_nothing(client, auth, conn, over, pointer):
    await seed(client, auth)
    before = count(conn)
    r = await client.post(
        "/api/v1/footprint-reviews", json={**REVIEW, **over}, headers=auth("analyst")
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert any(e["pointer"] == pointer for e in r.json()["errors"]), r.json()
    assert count(conn) == before


async def test_partner_may_not_review(client, auth):
    r = await client.post("/api/v1/footprint-reviews", json=REVIEW, headers=auth("partner"))
    assert r.status_code == 403
