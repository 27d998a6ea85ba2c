"""Vector tiles are encoded by PostGIS (ST_AsMVT): decoded with an independent decoder
(mapbox_vector_tile), every hexagon sits where Web-Mercator maths puts it and carries the same
properties as the GeoJSON layer."""

import math

import h3
import mapbox_vector_tile

from tests.api.threat.test_hotspots_api import AS_OF, add, by_cell, layer

EXTENT = 4096


def tile_of(lat, lon, z):
    n = 2 ** z
    return (int((lon + 180) / 360 * n),
            int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))


def to_tile_units(lat, lon, z, x, y):
    n = 2 ** z
    px = ((lon + 180) / 360 * n - x) * EXTENT
    py = ((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n - y) * EXTENT
    return px, py


async def tile(client, auth, z, x, y, role="analyst"):
    r = await client.get(f"/api/v1/hotspots/tiles/{z}/{x}/{y}.mvt",
                         params={"as_of": AS_OF.isoformat(), "window_days": 90},
                         headers=auth(role))
    assert r.status_code == 200, r.text
    return mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})


async def test_tile_hexagons_are_where_mercator_puts_them_with_the_layer_properties(
        client, auth, conn):
    spots = [(4.39, 18.56), (4.45, 18.50), (4.30, 18.62)]
    for i, (lat, lon) in enumerate(spots):
        for _ in range(i + 1):
            add(conn, lat, lon, fat=i)
    z = 9
    x, y = tile_of(4.39, 18.56, z)
    feats = (await tile(client, auth, z, x, y))["hotspots"]["features"]
    geo = by_cell(await layer(client, auth, res=7))  # z9 -> res 7
    inside = {f["properties"]["cell"] for f in feats}
    assert inside and inside <= set(geo)
    for f in feats:
        props = f["properties"]
        cell = props["cell"]
        assert f["id"] == int(cell, 16)
        for key in ("threat_score", "threat_level", "protection_tier", "incidents", "fatalities",
                    "crsv", "pattern"):
            assert props[key] == geo[cell][key], key
        expected = [to_tile_units(lat, lon, z, x, y) for lat, lon in h3.cell_to_boundary(cell)]
        ring = f["geometry"]["coordinates"][0]
        assert f["geometry"]["type"] == "Polygon" and ring[0] == ring[-1]
        for px, py in ring[:-1]:  # every vertex is a hexagon vertex, to the tile grid
            assert min(math.hypot(px - ex, py - ey) for ex, ey in expected) <= 1.5
        assert len(ring) - 1 == 6


async def test_a_hexagon_on_the_tile_edge_is_clipped_to_the_buffer(client, auth, conn):
    z = 9
    x, y = tile_of(4.39, 18.56, z)
    # a point just west of the tile's west edge: its hexagon reaches into this tile
    west = x / 2 ** z * 360 - 180
    add(conn, 4.39, west - 0.001)
    feats = (await tile(client, auth, z, x, y))["hotspots"]["features"]
    assert len(feats) == 1
    xs = [p[0] for p in feats[0]["geometry"]["coordinates"][0]]
    assert min(xs) >= -64 and max(xs) > 0  # cut at the 64-unit buffer, still inside the tile


async def test_partner_tiles_leave_suppressed_properties_out(client, auth, conn):
    for i in range(3):
        add(conn, 4.39, 18.56, fat=1, crsv=int(i == 0))  # 3 fatalities shown, 1 survivor not
    add(conn, 4.60, 18.56, fat=0, crsv=1, category="sexual_violence")
    z = 8
    x, y = tile_of(4.39, 18.56, z)
    feats = (await tile(client, auth, z, x, y, role="partner"))["hotspots"]["features"]
    cells = {f["properties"]["cell"]: f["properties"] for f in feats}
    assert list(cells) == [h3.latlng_to_cell(4.39, 18.56, 6)]  # the 1-incident cell is dropped
    props = next(iter(cells.values()))
    assert props["incidents"] == 3 and props["fatalities"] == 3
    assert "crsv" not in props  # suppressed (null) properties are left out of the tile
