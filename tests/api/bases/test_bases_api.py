"""Bases registry through HTTP: CRUD, as_of, GeoJSON, roles, bad input writes nothing."""

from __future__ import annotations

import pytest

BANGUI = {
    "name": "Bangui",
    "kind": "mission_hq",
    "latitude": 4.3938,
    "longitude": 18.5599,
    "opened_on": "2014-04-01",
    "troops": 4000,
    "road_patrols_per_day": 12,
    "foot_patrols_per_day": 6,
    "air_patrols_per_day": 1,
    "qrf_standby": 2,
}


def count(conn):
    return conn.execute(
        "SELECT (SELECT count(*) FROM mission_base) + (SELECT count(*) FROM audit_event)"
    ).fetchone()[0]


async def create(client, auth, **over):
    r = await client.post("/api/v1/bases", json={**BANGUI, **over}, headers=auth("admin"))
    assert r.status_code == 201, r.text
    return r.json()


async def test_create_read_patch_delete_audited(client, auth, conn):
    b = await create(client, auth)
    assert b["kind"] == "mission_hq" and b["road_patrols_per_day"] == 12
    r = await client.get(f"/api/v1/bases/{b['id']}", headers=auth("operations"))
    assert r.json()["latitude"] == 4.3938
    r = await client.patch(
        f"/api/v1/bases/{b['id']}", json={"closed_on": "2019-06-30"}, headers=auth("analyst")
    )
    assert r.status_code == 200 and r.json()["closed_on"] == "2019-06-30"
    assert (
        await client.delete(f"/api/v1/bases/{b['id']}", headers=auth("analyst"))
    ).status_code == 403
    assert (
        await client.delete(f"/api/v1/bases/{b['id']}", headers=auth("admin"))
    ).status_code == 204
    actions = [
        a
        for (a,) in conn.execute(
            "SELECT action FROM audit_event WHERE object_type='mission_base' ORDER BY id"
        )
    ]
    assert actions == ["create", "update", "delete"]


async def test_as_of_sees_that_dates_bases_and_geojson(client, auth):
    await create(client, auth)
    await create(
        client,
        auth,
        name="Obo",
        kind="company_operating_base",
        latitude=5.3957,
        longitude=26.4918,
        opened_on="2016-01-01",
        closed_on="2017-12-31",
    )
    h = auth("analyst")
    names = lambda r: [i["name"] for i in r.json()["items"]]  # noqa: E731
    assert names(await client.get("/api/v1/bases", params={"as_of": "2015-01-01"}, headers=h)) == [
        "Bangui"
    ]
    assert names(await client.get("/api/v1/bases", params={"as_of": "2017-12-31"}, headers=h)) == [
        "Bangui",
        "Obo",
    ]
    assert names(await client.get("/api/v1/bases", params={"as_of": "2018-01-01"}, headers=h)) == [
        "Bangui"
    ]
    assert names(await client.get("/api/v1/bases", params={"as_of": "2014-03-31"}, headers=h)) == []
    r = await client.get(
        "/api/v1/bases", params={"f": "geojson", "kind": "company_operating_base"}, headers=h
    )
    assert r.headers["content-type"] == "application/geo+json"
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 1
    assert fc["features"][0]["geometry"] == {"type": "Point", "coordinates": [26.4918, 5.3957]}


async def test_partner_sees_locations_without_capacities(client, auth):
    b = await create(client, auth)
    r = await client.get(f"/api/v1/bases/{b['id']}", headers=auth("partner"))
    assert r.status_code == 200
    assert set(r.json()) == {
        "id",
        "name",
        "kind",
        "latitude",
        "longitude",
        "opened_on",
        "closed_on",
    }
    assert (
        await client.post("/api/v1/bases", json=BANGUI, headers=auth("partner"))
    ).status_code == 403
    assert (await client.get("/api/v1/bases", headers=auth("integration"))).status_code == 403
    assert (
        await client.post("/api/v1/bases", json=BANGUI, headers=auth("operations"))
    ).status_code == 403


@pytest.mark.parametrize(
    "over,pointer",
    [
        ({"kind": "castle"}, "/body/kind"),
        ({"latitude": 95}, "/body/latitude"),
        ({"road_patrols_per_day": -1}, "/body/road_patrols_per_day"),
        ({"road_reach_km": -5}, "/body/road_reach_km"),
        ({"opened_on": "2019-01-01", "closed_on": "2018-01-01"}, "/body"),
        ({"name": ""}, "/body/name"),
        ({"secret": 1}, "/body/secret"),
    ],
)
async def test_bad_base_is_refused_and_nothing_written(client, auth, conn, over, pointer):
    before = count(conn)
    r = await client.post("/api/v1/bases", json={**BANGUI, **over}, headers=auth("admin"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert any(e["pointer"].startswith(pointer) for e in r.json()["errors"]), r.json()
    assert count(conn) == before


async def test_bad_patch_and_query_write_nothing(client, auth, conn):
    b = await create(client, auth, opened_on="2016-01-01")
    before = count(conn)
    r = await client.patch(
        f"/api/v1/bases/{b['id']}", json={"closed_on": "2015-01-01"}, headers=auth("admin")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/closed_on"
    r = await client.patch(
        f"/api/v1/bases/{b['id']}", json={"latitude": 5.0}, headers=auth("admin")
    )
    assert r.status_code == 422
    assert count(conn) == before
    r = await client.get("/api/v1/bases", params={"kind": "castle"}, headers=auth("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/query/kind"
    r = await client.get("/api/v1/bases", params={"as_of": "yesterday"}, headers=auth("admin"))
    assert r.status_code == 422
    r = await client.patch(
        "/api/v1/bases/00000000-0000-0000-0000-000000000000",
        json={"name": "x"},
        headers=auth("admin"),
    )
    assert r.status_code == 404
