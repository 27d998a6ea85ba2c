"""Incident behaviour through HTTP: create, read, list, page, grade, workflow, audit."""

import pytest
from shapely.geometry import shape

from tests.conftest import incident_body


async def create(client, auth, role="analyst", **over):
    r = await client.post("/api/v1/incidents", json=incident_body(**over), headers=auth(role))
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_health_checks_the_database(client):
    r = await client.get("/api/v1/health")
    assert r.status_code == 200 and r.json()["database"] == "ok"


async def test_create_then_read_back(client, auth, conn):
    iid = await create(client, auth)
    r = await client.get(f"/api/v1/incidents/{iid}", headers=auth("analyst"))
    body = r.json()
    assert body["category"] == "killing" and body["status"] == "entered"
    assert (body["latitude"], body["longitude"]) == (4.39, 18.56)
    assert body["quality_grade"] == "b" and body["independent_sources"] == 1
    assert "reporter_ref" not in body["reports"][0] and body["reports"][0]["has_reporter_ref"] is True
    audit = conn.execute("SELECT actor, action FROM audit_event WHERE object_id=%s", (iid,)).fetchall()
    assert audit == [("analyst:test-analyst", "create")]


async def test_corroborating_report_raises_the_grade(client, auth):
    iid = await create(client, auth, report={"section": "civil_affairs", "source_reliability": "D",
                                             "information_credibility": 4})
    assert (await client.get(f"/api/v1/incidents/{iid}", headers=auth("analyst"))).json()["quality_grade"] == "c"
    r = await client.post(f"/api/v1/incidents/{iid}/reports", headers=auth("operations"),
                          json={"section": "human_rights", "source_reliability": "A",
                                "information_credibility": 1})
    assert r.status_code == 201 and r.json()["quality_grade"] == "a"
    assert r.json()["independent_sources"] == 2


async def test_workflow_and_illegal_transitions(client, auth, conn):
    iid = await create(client, auth)
    assert (await client.post(f"/api/v1/incidents/{iid}/approve", headers=auth("admin"))).status_code == 409
    assert (await client.post(f"/api/v1/incidents/{iid}/validate", headers=auth("analyst"))).status_code == 200
    assert (await client.post(f"/api/v1/incidents/{iid}/approve", headers=auth("analyst"))).status_code == 403
    r = await client.post(f"/api/v1/incidents/{iid}/approve", headers=auth("admin"), json={"comment": "ok"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = await client.post(f"/api/v1/incidents/{iid}/reject", headers=auth("admin"))
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    actions = [a for (a,) in conn.execute(
        "SELECT action FROM audit_event WHERE object_id=%s ORDER BY id", (iid,)).fetchall()]
    assert actions == ["create", "validated", "approved"]


async def test_patch_moves_the_cell_and_is_audited(client, auth, conn):
    iid = await create(client, auth)
    r = await client.patch(f"/api/v1/incidents/{iid}", headers=auth("analyst"),
                           json={"latitude": 5.76, "longitude": 20.67, "fatalities_best": 3})
    assert r.status_code == 200, r.text
    import h3
    assert r.json()["h3_cell"] == h3.latlng_to_cell(5.76, 20.67, 9)
    before, after = conn.execute("SELECT before, after FROM audit_event WHERE action='update'").fetchone()
    assert before["fatalities_best"] == 2 and after["fatalities_best"] == 3


async def test_filters(client, auth):
    await create(client, auth, category="abduction", perpetrators=["3R"])
    await create(client, auth, category="killing", latitude=7.0, longitude=21.0,
                 occurred_start="2023-01-01T00:00:00Z")
    h = auth("analyst")
    q = lambda **p: client.get("/api/v1/incidents", params=p, headers=h)  # noqa: E731
    assert [i["category"] for i in (await q(category="abduction")).json()["items"]] == ["abduction"]
    assert len((await q(bbox="20,6,22,8")).json()["items"]) == 1
    assert len((await q(start="2024-01-01")).json()["items"]) == 1
    assert len((await q(end="2023-12-31")).json()["items"]) == 1
    assert len((await q(perpetrator="3r")).json()["items"]) == 1
    assert len((await q(status="approved")).json()["items"]) == 0
    assert len((await q(min_grade="a")).json()["items"]) == 0
    assert len((await q(min_grade="b")).json()["items"]) == 2


async def test_walking_next_links_returns_every_incident_once(client, auth):
    ids = {await create(client, auth, occurred_start=f"2024-03-{d:02d}T10:00:00Z", latitude=3.0 + 0.6 * d,
                        longitude=16.0) for d in range(1, 8)}
    # three on one day: in three towns, or triangulation would take them for one event
    ids |= {await create(client, auth, occurred_start="2024-03-01T10:00:00Z", latitude=5.0 + i)
            for i in range(3)}
    seen, url = [], "/api/v1/incidents?limit=3"
    while url:
        page = (await client.get(url, headers=auth("operations"))).json()
        seen += [i["id"] for i in page["items"]]
        url = page["next"]
    assert len(seen) == len(ids) and set(seen) == ids


@pytest.mark.parametrize("how", [{"params": {"f": "geojson"}},
                                 {"headers": {"Accept": "application/geo+json"}}])
async def test_geojson_feature_collection(client, auth, how):
    for i in range(3):  # three distinct events: the same place on three days a week apart
        await create(client, auth, occurred_start=f"2024-03-{1 + 7 * i:02d}T21:00:00Z")
    headers = {**auth("analyst"), **how.get("headers", {})}
    r = await client.get("/api/v1/incidents", params={"limit": 2, **how.get("params", {})}, headers=headers)
    assert r.headers["content-type"] == "application/geo+json"
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and doc["numberMatched"] == 3 and doc["numberReturned"] == 2
    for f in doc["features"]:
        assert f["geometry"]["coordinates"] == [18.56, 4.39]  # lon, lat order
        assert shape(f["geometry"]).is_valid
    assert any(link["rel"] == "next" for link in doc["links"])


def test_uvicorn_target_is_the_application():
    """`uvicorn app.main:app` (make run) must get a FastAPI app, not a module."""
    from fastapi import FastAPI

    import app.main

    assert isinstance(app.main.app, FastAPI)
