"""Incidents as vector tiles: points where Web-Mercator maths puts them, the window and the
partner policy applied, nothing analyst-only inside."""

import mapbox_vector_tile

from tests.api.threat.test_hotspots_api import add
from tests.api.threat.test_hotspots_tiles import tile_of, to_tile_units


async def _tile(client, auth, z, x, y, role="analyst", **params):
    r = await client.get(f"/api/v1/incidents/tiles/{z}/{x}/{y}.mvt", params=params,
                         headers=auth(role))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})


async def test_incident_points_sit_where_mercator_puts_them(client, auth, conn):
    spots = [(4.39, 18.56), (4.41, 18.60)]
    for lat, lon in spots:
        add(conn, lat, lon, perps=("Commander Secret",))
    add(conn, 4.40, 18.58, status="entered")
    z = 10
    x, y = tile_of(4.39, 18.56, z)
    feats = (await _tile(client, auth, z, x, y))["incidents"]["features"]
    assert len(feats) == 3
    for f in feats:
        assert f["geometry"]["type"] == "Point"
        assert set(f["properties"]) >= {"id", "category", "occurred", "status"}
    px, py = to_tile_units(4.39, 18.56, z, x, y)
    assert any(abs(f["geometry"]["coordinates"][0] - px) <= 1.5
               and abs(f["geometry"]["coordinates"][1] - py) <= 1.5 for f in feats)
    partner = await client.get(f"/api/v1/incidents/tiles/{z}/{x}/{y}.mvt", headers=auth("partner"))
    decoded = mapbox_vector_tile.decode(partner.content)["incidents"]["features"]
    assert len(decoded) == 2 and {f["properties"]["status"] for f in decoded} == {"approved"}
    assert b"Commander Secret" not in partner.content


async def test_window_bounds_the_points_and_bad_tiles_are_refused(client, auth, conn):
    add(conn, days_ago=3)
    add(conn, days_ago=400)
    z = 8
    x, y = tile_of(4.39, 18.56, z)
    recent = await _tile(client, auth, z, x, y, start="2024-01-01")
    assert len(recent["incidents"]["features"]) == 1
    empty = await client.get("/api/v1/incidents/tiles/8/0/0.mvt", headers=auth("analyst"))
    assert empty.status_code == 200 and empty.content == b""
    for path in ("/30/0/0.mvt", "/3/9/0.mvt", "/3/0/-1.mvt"):
        r = await client.get("/api/v1/incidents/tiles" + path, headers=auth("analyst"))
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    r = await client.get(f"/api/v1/incidents/tiles/{z}/{x}/{y}.mvt?start=2024-02-01&end=2024-01-01",
                         headers=auth("analyst"))
    assert r.status_code == 422
