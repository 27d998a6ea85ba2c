"""The threat layer through HTTP: GeoJSON validity, laws on real PostGIS, roles, bad input."""

import random
from datetime import UTC, datetime, timedelta

import h3
import pytest
from shapely.geometry import shape

from tests.conftest import incident_body

AS_OF = datetime(2024, 6, 30, tzinfo=UTC)
BANGUI = (4.39, 18.56)


def add(conn, lat=BANGUI[0], lon=BANGUI[1], *, days_ago=3.0, category="killing", fat=1, crsv=0,
        status="approved", grade="b", radius=0, perps=("Armed group X",)):
    conn.execute(
        "INSERT INTO incident (occurred_start, location, h3_cell, category, fatalities_best, "
        "crsv_survivors, status, quality_grade, location_radius_m, perpetrators, created_by, "
        "updated_by) VALUES (%s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, %s, %s, %s, %s, "
        "%s, %s, 't', 't')",
        (AS_OF - timedelta(days=days_ago), lon, lat, h3.str_to_int(h3.latlng_to_cell(lat, lon, 9)),
         category, fat, crsv, status, grade, radius, list(perps)))
    conn.commit()


async def layer(client, auth, role="analyst", **params):
    params = {"as_of": AS_OF.isoformat(), "window_days": 90, **params}
    r = await client.get("/api/v1/hotspots", params=params, headers=auth(role))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    return r.json()


def by_cell(doc):
    return {f["id"]: f["properties"] for f in doc["features"]}


async def test_layer_is_valid_geojson_with_cell_ids(client, auth, conn):
    for i in range(5):
        add(conn, 4.39 + i * 0.05, 18.56, fat=i)
    doc = await layer(client, auth, res=7)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 5
    for f in doc["features"]:
        assert f["id"] == f["properties"]["cell"] and h3.get_resolution(f["id"]) == 7
        ring = f["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and shape(f["geometry"]).is_valid
        assert shape(f["geometry"]).exterior.is_ccw
        p = f["properties"]
        assert 0 <= p["threat_score"] <= 100 and p["protection_tier"] in ("must", "should", "could")
        assert {"likelihood", "impact", "trend", "pattern", "top_categories"} <= set(p)


async def test_parent_totals_equal_the_sum_of_children(client, auth, conn):
    rng = random.Random(4)  # noqa: S311 (test data)
    for _ in range(40):
        add(conn, 4.3 + rng.random() * 0.4, 18.4 + rng.random() * 0.4, fat=rng.randint(0, 5),
            crsv=rng.choice([0, 0, 2]), days_ago=rng.random() * 80)
    fine = by_cell(await layer(client, auth, res=7, pattern="false"))
    coarse = by_cell(await layer(client, auth, res=5, pattern="false"))
    for parent, props in coarse.items():
        kids = [p for c, p in fine.items() if h3.cell_to_parent(c, 5) == parent]
        for key in ("incidents", "fatalities", "crsv"):
            assert props[key] == sum(k[key] for k in kids)
        assert props["likelihood"] == pytest.approx(sum(k["likelihood"] for k in kids), abs=1e-3)
    assert sum(p["incidents"] for p in coarse.values()) == 40


async def test_scores_do_not_depend_on_insertion_order(client, auth, conn, db_url):
    rng = random.Random(9)  # noqa: S311 (test data)
    events = [dict(lat=4.3 + rng.random() * 0.2, lon=18.5 + rng.random() * 0.2,
                   fat=rng.randint(0, 9), days_ago=rng.random() * 60) for _ in range(25)]
    for e in events:
        add(conn, **e)
    first = by_cell(await layer(client, auth, res=6))
    conn.execute("TRUNCATE incident CASCADE")
    conn.commit()
    for e in reversed(events):
        add(conn, **e)
    assert by_cell(await layer(client, auth, res=6)) == first


async def test_adding_an_incident_or_harm_never_lowers_a_score(client, auth, conn):
    add(conn, days_ago=30, fat=2)
    cell = h3.latlng_to_cell(*BANGUI, 6)
    before = by_cell(await layer(client, auth))[cell]["threat_score"]
    add(conn, days_ago=85, fat=0)  # old, harmless: still adds
    after = by_cell(await layer(client, auth))[cell]["threat_score"]
    assert after >= before
    add(conn, days_ago=1, category="sexual_violence", fat=0, crsv=1)
    with_crsv = by_cell(await layer(client, auth))[cell]
    assert with_crsv["threat_score"] > after and with_crsv["crsv"] == 1


async def test_rejected_excluded_and_imprecise_left_out_of_fine_cells(client, auth, conn):
    add(conn, status="rejected", fat=50)
    add(conn, 6.0, 20.0, radius=25_000)  # UCDP where_prec 2
    assert (await layer(client, auth, res=6))["features"] == []
    coarse = await layer(client, auth, res=4)
    assert [f["id"] for f in coarse["features"]] == [h3.latlng_to_cell(6.0, 20.0, 4)]


async def test_a_new_incident_shows_in_the_next_response(client, auth):
    r = await client.post("/api/v1/incidents", headers=auth("analyst"),
                          json=incident_body(
                              occurred_start=(AS_OF - timedelta(days=2)).isoformat()))
    assert r.status_code == 201
    assert h3.latlng_to_cell(4.39, 18.56, 6) in by_cell(await layer(client, auth))


async def test_filters_bbox_category_level(client, auth, conn):
    add(conn, category="abduction")
    add(conn, 7.0, 21.0, fat=30)
    assert len((await layer(client, auth, category="abduction"))["features"]) == 1
    assert len((await layer(client, auth, bbox="20.5,6.5,21.5,7.5"))["features"]) == 1
    crit = await layer(client, auth, min_level="critical")
    assert [f["properties"]["threat_level"] for f in crit["features"]] == ["critical"]
    assert len((await layer(client, auth, min_grade="a"))["features"]) == 0


async def test_partner_layer_is_sanitised(client, auth, conn):
    for _ in range(4):
        add(conn, fat=1, perps=("Secret commander",))
    add(conn, 7.0, 21.0, fat=9)  # a single incident: suppressed
    add(conn, status="validated", fat=40)  # not approved: invisible to partners
    r = await client.get("/api/v1/hotspots", headers=auth("partner"),
                         params={"as_of": AS_OF.isoformat(), "res": 6})
    assert r.status_code == 200
    assert "Secret commander" not in r.text
    feats = r.json()["features"]
    assert [f["properties"]["incidents"] for f in feats] == [4]
    for f in feats:
        p = f["properties"]
        for value in (p["incidents"], p["fatalities"], p["crsv"],
                      *(c["incidents"] for c in p["top_categories"])):
            assert value is None or value == 0 or value >= 3
        assert p["top_perpetrators"] == []
    r = await client.get("/api/v1/hotspots", headers=auth("partner"), params={"res": 7})
    assert r.status_code == 403


async def test_integration_tokens_are_refused(client, auth):
    r = await client.get("/api/v1/hotspots", headers=auth("integration"))
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/hotspots")).status_code == 401


@pytest.mark.parametrize(("params", "pointer"), [
    ({"res": 12}, "/query/res"),
    ({"res": 3}, "/query/res"),
    ({"bbox": "21,8,20,7"}, "/query/bbox"),
    ({"category": "witchcraft"}, "/query/category"),
    ({"as_of": "yesterday"}, "/query/as_of"),
    ({"window_days": 0}, "/query/window_days"),
    ({"min_level": "extreme"}, "/query/min_level"),
    ({"start": "2024-05-01"}, "/query/end"),
])
async def test_bad_parameters_are_refused(client, auth, params, pointer):
    r = await client.get("/api/v1/hotspots", params=params, headers=auth("analyst"))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in r.json()["errors"]]


async def test_cell_detail(client, auth, conn):
    for d in (1, 8, 9, 20):
        add(conn, days_ago=d, fat=2)
    cell = h3.latlng_to_cell(*BANGUI, 6)
    params = {"as_of": AS_OF.isoformat()}
    r = await client.get(f"/api/v1/hotspots/{cell}", params=params, headers=auth("operations"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["properties"]["incidents"] == 4 and len(body["incidents"]) == 4
    assert sum(w["incidents"] for w in body["weekly"]) == 4
    assert body["categories"] == [{"category": "killing", "incidents": 4}]
    assert "reporter_ref" not in r.text
    partner = await client.get(f"/api/v1/hotspots/{cell}", params=params, headers=auth("partner"))
    assert partner.status_code == 200 and partner.json()["incidents"] is None
    assert "Armed group X" not in partner.text
    for w in partner.json()["weekly"]:
        assert w["incidents"] is None or w["incidents"] >= 3
    bad = await client.get("/api/v1/hotspots/not-a-cell", headers=auth("analyst"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/path/cell"


async def test_vector_tile(client, auth, conn):
    import mapbox_vector_tile

    add(conn, fat=3)
    lat, lon = BANGUI
    import math
    n = 2 ** 8
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    r = await client.get(f"/api/v1/hotspots/tiles/8/{x}/{y}.mvt",
                         params={"as_of": AS_OF.isoformat()}, headers=auth("analyst"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    tile = mapbox_vector_tile.decode(r.content)
    feats = tile["hotspots"]["features"]
    assert [f["properties"]["cell"] for f in feats] == [h3.latlng_to_cell(lat, lon, 6)]
    r = await client.get("/api/v1/hotspots/tiles/8/999/0.mvt", headers=auth("analyst"))
    assert r.status_code == 422
