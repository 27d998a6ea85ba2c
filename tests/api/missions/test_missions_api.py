"""Missions, areas of responsibility and their refusals through the API (issue 13)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from app.cli.support import create_token, seed_bundled
from app.domain import Role

# A small mission in an empty part of the map, and AORs inside it.
SQUARE = {"type": "Polygon", "coordinates": [[[40, -10], [44, -10], [44, -6], [40, -6], [40, -10]]]}
MISSION = {"code": "unx", "name": "UN Example", "area": SQUARE, "timezone": "Africa/Nairobi",
           "languages": ["en", "sw"], "cap_sender": "ew@unx.example",
           "seasons": [{"name": "long rains", "months": [3, 4, 5], "speed_factor": {"road": 0.5}}]}


def box(x1, y1, x2, y2):
    return {"type": "Polygon", "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}


def counts(conn):
    return conn.execute("SELECT (SELECT count(*) FROM mission), (SELECT count(*) FROM aor), "
                        "(SELECT count(*) FROM mission_base), (SELECT count(*) FROM place)").fetchone()


async def create(client, auth, **over):
    r = await client.post("/api/v1/missions", json={**MISSION, **over}, headers=auth("admin"))
    assert r.status_code == 201, r.text
    return r.json()


async def test_create_list_show_update(client, auth):
    m = await create(client, auth)
    assert m["code"] == "unx" and m["area"]["type"] == "MultiPolygon"
    listed = (await client.get("/api/v1/missions", headers=auth("operations"))).json()
    assert [x["code"] for x in listed["items"]] == ["unx"]
    item = listed["items"][0]
    assert item["timezone"] == "Africa/Nairobi" and item["area"]["type"] == "MultiPolygon"
    r = await client.patch("/api/v1/missions/unx", json={"timezone": "Africa/Dar_es_Salaam"},
                           headers=auth("admin"))
    assert r.status_code == 200 and r.json()["timezone"] == "Africa/Dar_es_Salaam"
    r = await client.patch("/api/v1/missions/unx", json={"countries": ["SSD"]}, headers=auth("admin"))
    assert r.status_code == 200 and r.json()["countries"] == ["SSD"]
    missing = await client.get("/api/v1/missions/nope", headers=auth("admin"))
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    # a mission named in a query that does not exist is a bad query, not a missing resource
    assert (await client.get("/api/v1/hotspots", params={"mission": "nope"},
                             headers=auth("admin"))).status_code == 422


def _problem(r, status=422, pointer=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    if pointer is not None:
        assert any(e["pointer"] == pointer for e in body.get("errors", [])), body
    return body


@pytest.mark.parametrize("over,pointer", [
    ({"timezone": "Mars/Olympus"}, "/body/timezone"),
    ({"timezone": "UTC+3"}, "/body/timezone"),
    ({"area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},
     "/body/area"),
    ({"area": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}, "/body/area"),
    ({"area": None, "countries": ["XYZ"]}, "/body/countries/0"),
    ({"languages": ["tlh"]}, "/body/languages/0"),
    ({"seasons": [{"name": "wet", "months": [13], "speed_factor": {"road": 0.5}}]},
     "/body/seasons/0/months"),
    ({"seasons": [{"name": "wet", "months": [5], "speed_factor": {"boat": 0.5}}]},
     "/body/seasons/0/speed_factor"),
])
async def test_bad_missions_are_refused_and_nothing_is_written(client, auth, conn, over, pointer):
    before = counts(conn)
    _problem(await client.post("/api/v1/missions", json={**MISSION, **over}, headers=auth("admin")),
             pointer=pointer)
    assert counts(conn) == before


async def test_a_taken_code_is_a_conflict_and_the_code_cannot_change(client, auth, conn):
    await create(client, auth)
    _problem(await client.post("/api/v1/missions", json=MISSION, headers=auth("admin")), 409)
    _problem(await client.patch("/api/v1/missions/unx", json={"timezone": "UTC+2"},
                                headers=auth("admin")), pointer="/body/timezone")
    assert (await client.get("/api/v1/missions/unx", headers=auth("admin"))).json()["timezone"] \
        == "Africa/Nairobi"


async def test_aors_import_list_route_and_refuse(client, auth, conn, app, settings):
    await create(client, auth)
    aors = {"aors": [
        {"name": "Sector North", "kind": "sector", "area": box(40, -8, 44, -6)},
        {"name": "Sector South", "kind": "sector", "area": box(40, -10, 44, -8)},
        {"name": "FO Alpha", "kind": "field_office", "parent": "Sector North", "area": box(40, -8, 42, -6)},
        {"name": "FO Beta", "kind": "field_office", "parent": "Sector North", "area": box(42, -8, 44, -6)},
    ]}
    r = await client.post("/api/v1/missions/unx/aors", json=aors, headers=auth("admin"))
    assert r.status_code == 201, r.text and r.json()["created"] == 4
    base = {"name": "Camp A", "kind": "company_operating_base", "latitude": -7, "longitude": 41,
            "opened_on": "2020-01-01", "road_patrols_per_day": 2}
    assert (await client.post("/api/v1/bases", json=base, headers=auth("analyst"))).status_code == 201
    listed = (await client.get("/api/v1/missions/unx/aors", headers=auth("operations"))).json()["items"]
    alpha = next(a for a in listed if a["name"] == "FO Alpha")
    assert alpha["parent"] == "Sector North" and [b["name"] for b in alpha["bases"]] == ["Camp A"]
    from app.services.missions.aor import aor_for_point

    async with app.state.sessionmaker() as session:
        assert (await aor_for_point(session, "unx", 41, -7))["name"] == "FO Alpha"
        assert (await aor_for_point(session, "unx", 41, -9))["name"] == "Sector South"
        assert await aor_for_point(session, "unx", 30, 0) is None
    before = counts(conn)
    outside = {"aors": [{"name": "FO Far", "area": box(10, 10, 11, 11)}]}
    _problem(await client.post("/api/v1/missions/unx/aors", json=outside, headers=auth("admin")),
             pointer="/body/aors/0/area")
    overlap = {"aors": [{"name": "FO Gamma", "kind": "field_office", "area": box(41, -7.5, 43, -6.5)}]}
    body = _problem(await client.post("/api/v1/missions/unx/aors", json=overlap, headers=auth("admin")),
                    pointer="/body/aors/0/area")
    assert "overlaps" in body["detail"]
    orphan = {"aors": [{"name": "FO Delta", "kind": "field_office", "parent": "Sector West",
                        "area": box(40, -10, 41, -9)}]}
    _problem(await client.post("/api/v1/missions/unx/aors", json=orphan, headers=auth("admin")),
             pointer="/body/aors/0/parent")
    assert counts(conn) == before
    # the mission's area cannot shrink past its AORs
    _problem(await client.patch("/api/v1/missions/unx", json={"area": box(40, -10, 41, -9)},
                                headers=auth("admin")), pointer="/body/area")


async def test_hotspots_clip_to_mission_and_aor(client, auth, conn):
    await create(client, auth)
    await client.post("/api/v1/missions/unx/aors", json={"aors": [
        {"name": "FO West", "area": box(40, -10, 42, -6)},
        {"name": "FO East", "area": box(42, -10, 44, -6)}]}, headers=auth("admin"))
    from tests.conftest import incident_body

    for lat, lon in ((-7, 41), (-7, 43), (4.39, 18.56)):
        r = await client.post("/api/v1/incidents", json=incident_body(latitude=lat, longitude=lon),
                              headers=auth("analyst"))
        assert r.status_code == 201
    q = {"res": 6, "start": "2024-01-01", "end": "2024-12-31", "pattern": "false"}

    async def cells(**extra):
        r = await client.get("/api/v1/hotspots", params={**q, **extra}, headers=auth("analyst"))
        assert r.status_code == 200, r.text
        return len(r.json()["features"])

    assert await cells() == 3
    assert await cells(mission="unx") == 2
    listed = await client.get("/api/v1/incidents", params={"mission": "unx", "aor": "FO East"},
                              headers=auth("analyst"))
    assert [i["longitude"] for i in listed.json()["items"]] == [43]
    assert await cells(mission="unx", aor="FO West") == 1
    _problem(await client.get("/api/v1/hotspots", params={**q, "mission": "nope"},
                              headers=auth("analyst")), pointer="/query/mission")
    _problem(await client.get("/api/v1/hotspots", params={**q, "mission": "unx", "aor": "FO Nowhere"},
                              headers=auth("analyst")), pointer="/query/aor")


async def test_a_token_limited_to_a_mission_sees_only_it(client, auth, settings):
    await create(client, auth)
    await create(client, auth, code="uny", area=box(30, 0, 32, 2))
    token = create_token(settings, Role.analyst, "unx-analyst", mission="unx")
    h = {"Authorization": f"Bearer {token}"}
    q = {"res": 6, "start": "2024-01-01", "end": "2024-12-31"}
    assert (await client.get("/api/v1/hotspots", params=q, headers=h)).status_code == 200
    _problem(await client.get("/api/v1/hotspots", params={**q, "mission": "uny"}, headers=h), 403)
    listed = (await client.get("/api/v1/missions", headers=h)).json()["items"]
    assert [m["code"] for m in listed] == ["unx"]


async def test_geopko_upload_with_an_unknown_mission_is_refused(client, auth, conn):
    await create(client, auth)
    csv = (b"mission,year,location,latitude,longitude,troops,infantry,reserve,hq,unpol,medical,"
           b"aviation,unmo\nMINUSCA,2014,Bambari,5.76,20.67,650,650,0,0,0,0,0,0\n")
    before = counts(conn)
    r = await client.post("/api/v1/bases/imports", data={"mission": "unx"},
                          files={"file": ("g.csv", csv, "text/csv")}, headers=auth("analyst"))
    _problem(r, pointer="/mission")
    assert counts(conn) == before
    r = await client.post("/api/v1/bases/imports", files={"file": ("g.csv", csv, "text/csv")},
                          headers=auth("analyst"))
    assert r.status_code == 201 and r.json()["inserted"] == 1


async def test_seed_none_writes_nothing_and_seed_mission_stores_the_profile(settings, conn):
    lines = list(seed_bundled(settings.model_copy(update={"seed": "none"})))
    assert "none" in lines[0] and counts(conn) == (0, 0, 0, 0)
    assert conn.execute("SELECT count(*) FROM incident").fetchone()[0] == 0
    list(seed_bundled(settings, "minusca"))
    assert conn.execute("SELECT code FROM mission").fetchall() == [("minusca",)]


async def test_default_mission_keeps_the_bundled_behaviour(client, auth):
    # no mission stored: the bundled profile lends its view and sender, nothing is clipped
    who = (await client.get("/api/v1/map/session", headers=auth("analyst"))).json()
    assert who["mission"]["code"] == "minusca" and who["mission"]["timezone"] == "Africa/Bangui"
    feed = await client.get("/api/v1/warnings/feed", headers=auth("analyst"))
    assert feed.status_code == 200
    missions = (await client.get("/api/v1/missions", headers=auth("analyst"))).json()
    assert missions["items"] == [] and missions["default"] == "minusca"


def test_cli_mission_list_prints_codes_first(settings, monkeypatch):
    from app.cli.main import cli
    from app.settings import get_settings

    monkeypatch.setenv("KINGA_DATABASE_URL", settings.database_url.get_secret_value())
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        r = runner.invoke(cli, ["mission", "create", "unz", "--name", "UNZ", "--countries", "SSD",
                                "--timezone", "Africa/Juba"])
        assert r.exit_code == 0, r.output
        r = runner.invoke(cli, ["mission", "create", "unw", "--countries", "SSD",
                                "--timezone", "UTC+2"])
        assert r.exit_code == 1 and "time zone" in r.output
        r = runner.invoke(cli, ["mission", "list"])
        assert r.exit_code == 0 and r.output.splitlines()[0].split("\t")[0] == "unz"
        r = runner.invoke(cli, ["mission", "show", "unz"])
        assert json.loads(r.output)["timezone"] == "Africa/Juba"
    finally:
        get_settings.cache_clear()
