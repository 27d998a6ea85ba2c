"""Patrol plans through HTTP: a plan from recorded incidents and the day's bases, its contract
fields, seeded determinism, and bad input refused with problem+json and nothing written."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import incident_body

BAMBARI = {
    "name": "Bambari",
    "kind": "company_operating_base",
    "latitude": 5.7639,
    "longitude": 20.6707,
    "opened_on": "2014-01-01",
    "troops": 650,
    "road_patrols_per_day": 2,
    "foot_patrols_per_day": 1,
    "qrf_standby": 1,
}
FAR = {
    "name": "Birao",
    "kind": "company_operating_base",
    "latitude": 10.29,
    "longitude": 22.78,
    "opened_on": "2016-01-01",
    "road_patrols_per_day": 1,
}


def count(conn):
    return conn.execute(
        "SELECT (SELECT count(*) FROM mission_base) + (SELECT count(*) FROM "
        "incident) + (SELECT count(*) FROM audit_event)"
    ).fetchone()[0]


async def seed(client, auth):
    ids = []
    for b in (BAMBARI, FAR):
        r = await client.post("/api/v1/bases", json=b, headers=auth("admin"))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    # Night attacks around Bambari in the fortnight before as_of, one with sexual violence.
    # Distinct attacks (other perpetrators and tolls), so that triangulation keeps them apart.
    for day, hour, lat, lon, cat, perp, fat in [
        (1, 21, 5.78, 20.69, "killing", "UPC", 2),
        (3, 22, 5.79, 20.70, "killing", "Anti-balaka", 9),
        (5, 23, 5.78, 20.69, "sexual_violence", "UPC", 0),
        (6, 21, 5.70, 20.60, "abduction", "3R", 0),
        (7, 22, 5.85, 20.75, "looting_destruction", "Anti-balaka", 0),
    ]:
        r = await client.post(
            "/api/v1/incidents",
            headers=auth("analyst"),
            json=incident_body(
                occurred_start=f"2024-03-0{day}T{hour}:00:00Z",
                latitude=lat,
                longitude=lon,
                category=cat,
                crsv_survivors=1 if cat == "sexual_violence" else 0,
                perpetrators=[perp],
                fatalities_best=fat,
            ),
        )
        assert r.status_code == 201, r.text
    return ids


PLAN = {"as_of": "2024-03-10", "horizon_days": 7}


async def test_plan_from_recorded_incidents(client, auth):
    bambari, _ = await seed(client, auth)
    r = await client.post("/api/v1/patrol-plans", json=PLAN, headers=auth("operations"))
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["tasks"], plan
    for t in plan["tasks"]:
        assert {
            "desired_effect",
            "reason",
            "base_id",
            "cells",
            "time_window",
            "composition",
            "priority",
        } <= set(t)
        assert t["cells"]["type"] == "FeatureCollection"
        assert t["base_id"] == bambari  # Birao is far beyond reach
    first = plan["tasks"][0]
    assert first["desired_effect"] == "protect" and "ongoing violence" in first["reason"]
    assert first["time_window"]["night"] is True  # attacks came at 22:00-00:00 local
    roles = {c["role"] for t in plan["tasks"] for c in t["composition"]}
    assert "mixed_gender_engagement_team" in roles
    s = plan["summary"]
    assert 0 < s["threat_covered_share"] <= 1 and s["solver"] == "optimal"
    assert all(p["planned"] <= p["available"] for p in s["patrols"])
    cells = [c for t in plan["tasks"] for c in t["cell_ids"]]
    assert len(cells) == len(set(cells))
    r = await client.post("/api/v1/patrol-plans", json={**PLAN, "seed": 4}, headers=auth("analyst"))
    r2 = await client.post(
        "/api/v1/patrol-plans", json={**PLAN, "seed": 4}, headers=auth("analyst")
    )
    assert r.json() == r2.json()
    r = await client.post("/api/v1/patrol-plans?f=geojson", json=PLAN, headers=auth("admin"))
    assert r.headers["content-type"] == "application/geo+json"
    assert r.json()["features"][0]["properties"]["desired_effect"] == "protect"


async def test_capacity_override_to_zero_leaves_cells_uncovered_for_lack_of_capacity(client, auth):
    bambari, _ = await seed(client, auth)
    body = {
        **PLAN,
        "base_ids": [bambari],
        "capacity_overrides": [
            {"base_id": bambari, "mode": m, "patrols_per_day": 0} for m in ("road", "foot")
        ],
    }
    r = await client.post("/api/v1/patrol-plans", json=body, headers=auth("analyst"))
    assert r.status_code == 200, r.text
    assert r.json()["tasks"] == [] and r.json()["summary"]["threat_covered_share"] == 0


async def test_partner_and_integration_may_not_plan(client, auth):
    for role in ("partner", "integration"):
        r = await client.post("/api/v1/patrol-plans", json=PLAN, headers=auth(role))
        assert r.status_code == 403


BAD = [
    ({"horizon_days": 0}, "/body/horizon_days"),
    ({"horizon_days": -3}, "/body/horizon_days"),
    ({"as_of": "2001-01-01"}, "/body/as_of"),
    ({"as_of": "not a date"}, "/body/as_of"),
    ({"base_ids": [str(uuid.UUID(int=7))]}, "/body/base_ids/0"),
    (
        {"capacity_overrides": [{"base_id": "BAMBARI", "mode": "road", "patrols_per_day": -1}]},
        "/body/capacity_overrides/0/patrols_per_day",
    ),
    (
        {
            "capacity_overrides": [
                {"base_id": str(uuid.UUID(int=7)), "mode": "road", "patrols_per_day": 1}
            ]
        },
        "/body/capacity_overrides/0/base_id",
    ),
    (
        {"capacity_overrides": [{"base_id": "BAMBARI", "mode": "boat", "patrols_per_day": 1}]},
        "/body/capacity_overrides/0/mode",
    ),
    ({"bbox": [30, 5, 20, 6]}, "/body/bbox"),
    ({"res": 12}, "/body/res"),
    ({"solver": "magic"}, "/body/solver"),
    ({"forecast_weight": 0.5}, "/body/forecast_weight"),  # a weight without a forecast
    ({"use_forecast": True, "forecast_weight": 1.5}, "/body/forecast_weight"),
    ({"use_forecast": True, "forecast_weight": -0.1}, "/body/forecast_weight"),
]


@pytest.mark.parametrize("over,pointer", BAD, ids=[p for _, p in BAD])
async def test_bad_plan_request_is_422_and_writes_nothing(client, auth, conn, over, pointer):
    bambari, _ = await seed(client, auth)
    for o in over.get("capacity_overrides", []):
        if o["base_id"] == "BAMBARI":
            o["base_id"] = bambari
    before = count(conn)
    r = await client.post("/api/v1/patrol-plans", json={**PLAN, **over}, headers=auth("analyst"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert any(e["pointer"] == pointer for e in r.json()["errors"]), r.json()
    assert count(conn) == before


async def test_plan_without_any_incident_or_base_is_422(client, auth, conn):
    r = await client.post("/api/v1/patrol-plans", json=PLAN, headers=auth("analyst"))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/as_of"
    await client.post("/api/v1/incidents", json=incident_body(), headers=auth("analyst"))
    r = await client.post("/api/v1/patrol-plans", json=PLAN, headers=auth("analyst"))
    assert r.status_code == 422 and "no base is active" in r.json()["detail"]
