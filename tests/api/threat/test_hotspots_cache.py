"""Hotspot caches are keyed on the data version: a write is in the next response, partners and
analysts never share an entry, and the caches stay bounded."""

from datetime import timedelta

import h3

from app.services.threat import layer as hotspots
from tests.api.threat.test_hotspots_api import AS_OF, BANGUI, add, by_cell, layer
from tests.conftest import incident_body

CELL6 = h3.latlng_to_cell(*BANGUI, 6)


def version(conn):
    row = conn.execute("SELECT version FROM data_version").fetchone()
    conn.commit()
    return None if row is None else row[0]


def body_at_bangui(**over):
    return incident_body(occurred_start=(AS_OF - timedelta(days=2)).isoformat(),
                         latitude=BANGUI[0], longitude=BANGUI[1], **over)


async def test_every_kind_of_write_moves_the_data_version(client, auth, conn):
    seen = [version(conn)]
    add(conn)
    seen.append(version(conn))
    conn.execute("UPDATE incident SET fatalities_best = fatalities_best + 1")
    conn.commit()
    seen.append(version(conn))
    r = await client.post("/api/v1/incidents", json=body_at_bangui(), headers=auth("analyst"))
    assert r.status_code == 201, r.text
    seen.append(version(conn))
    conn.execute("UPDATE report SET narrative = 'amended'")  # a report alone (grades)
    conn.commit()
    seen.append(version(conn))
    conn.execute("DELETE FROM report")
    conn.execute("DELETE FROM incident")
    conn.commit()
    seen.append(version(conn))
    assert None not in seen and len(set(seen)) == len(seen), seen


async def test_a_rolled_back_write_leaves_the_version_and_its_value_is_never_reused(conn):
    before = version(conn)
    add_in_tx = ("INSERT INTO incident (occurred_start, location, h3_cell, category, status, "
                 "quality_grade, location_radius_m, created_by, updated_by) VALUES (now(), "
                 "ST_SetSRID(ST_MakePoint(18.5, 4.4), 4326), %s, 'killing', 'approved', 'b', 0, "
                 "'t', 't')")
    conn.execute(add_in_tx, (h3.str_to_int(h3.latlng_to_cell(4.4, 18.5, 9)),))
    inside = conn.execute("SELECT version FROM data_version").fetchone()[0]
    conn.rollback()
    assert inside != before and version(conn) == before
    add(conn)
    assert version(conn) not in (before, inside)


async def test_a_cached_layer_counts_a_new_incident_in_the_next_response(client, auth, conn):
    for _ in range(3):
        add(conn, days_ago=5)
    first = by_cell(await layer(client, auth, res=6))
    hits = hotspots._BYTES.hits
    assert by_cell(await layer(client, auth, res=6)) == first
    assert hotspots._BYTES.hits == hits + 1  # the repeat was served from the cache
    r = await client.post("/api/v1/incidents", json=body_at_bangui(), headers=auth("analyst"))
    assert r.status_code == 201, r.text
    after = by_cell(await layer(client, auth, res=6))
    assert after[CELL6]["incidents"] == first[CELL6]["incidents"] + 1


async def test_cached_tiles_and_details_change_after_a_write(client, auth, conn):
    add(conn, days_ago=5)
    params = {"as_of": AS_OF.isoformat(), "window_days": 90}
    x, y = h3_tile(8)
    tile = f"/api/v1/hotspots/tiles/8/{x}/{y}.mvt"
    t1 = (await client.get(tile, params=params, headers=auth("analyst"))).content
    d1 = (await client.get(f"/api/v1/hotspots/{CELL6}", params=params,
                           headers=auth("analyst"))).json()
    assert (await client.get(tile, params=params, headers=auth("analyst"))).content == t1
    add(conn, days_ago=4, fat=7)
    t2 = (await client.get(tile, params=params, headers=auth("analyst"))).content
    d2 = (await client.get(f"/api/v1/hotspots/{CELL6}", params=params,
                           headers=auth("analyst"))).json()
    assert t2 != t1
    assert d2["properties"]["incidents"] == d1["properties"]["incidents"] + 1
    assert len(d2["incidents"]) == len(d1["incidents"]) + 1


def h3_tile(z):
    import math
    lat, lon = BANGUI
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


async def test_partner_and_analyst_responses_are_cached_apart(client, auth, conn):
    for i in range(4):
        add(conn, days_ago=3 + i, perps=("Armed group X",))
    add(conn, days_ago=2, status="validated", perps=("Armed group X",))
    # Partner first, then analyst, then partner again (each twice, so both come from cache).
    for _ in range(2):
        partner = await layer(client, auth, role="partner", res=6)
        analyst = await layer(client, auth, role="analyst", res=6)
    p, a = by_cell(partner)[CELL6], by_cell(analyst)[CELL6]
    assert p["top_perpetrators"] == [] and "Armed group X" not in str(partner)
    assert a["top_perpetrators"][0]["name"] == "Armed group X"
    assert (p["incidents"], a["incidents"]) == (4, 5)  # approved only for partners
    again = await layer(client, auth, role="partner", res=6)
    assert "Armed group X" not in str(again)


async def test_the_caches_are_bounded(client, auth, conn, settings):
    add(conn, days_ago=5)
    old = settings.hotspot_cache_entries
    settings.hotspot_cache_entries = 3
    try:
        for days in range(10, 20):
            await layer(client, auth, res=6, window_days=days)
            assert len(hotspots._BYTES) <= 3
    finally:
        settings.hotspot_cache_entries = old


async def test_a_bbox_layer_equals_the_whole_layer_within_the_bbox(client, auth, conn):
    import random

    rng = random.Random(9)  # noqa: S311 (test data)
    for _ in range(60):
        add(conn, 4.0 + rng.random() * 1.2, 18.0 + rng.random() * 1.2, days_ago=rng.random() * 80,
            fat=rng.randint(0, 3))
    whole = by_cell(await layer(client, auth, res=7, pattern="false"))
    box = (18.3, 4.3, 18.9, 4.9)
    part = by_cell(await layer(client, auth, res=7, pattern="false",
                               bbox=",".join(map(str, box))))
    assert part  # the box holds data
    for cell, props in part.items():
        assert props == whole[cell]
    lat_lng = {c: h3.cell_to_latlng(c) for c in whole}
    inside = {c for c, (lat, lng) in lat_lng.items()
              if box[0] <= lng <= box[2] and box[1] <= lat <= box[3]}
    assert inside <= set(part)
