"""No inference through filters (issue 11): a role filters only on fields it may read, and a
partner never gets an exact position or a per-incident count under the suppression threshold,
whichever listing, feature or bbox it asks."""

from __future__ import annotations

import h3
import pytest

from tests.conftest import incident_body

LAT, LON = 4.3912, 18.5583


async def _approved(client, auth, **over):
    body = incident_body(latitude=LAT, longitude=LON, perpetrators=["Anti-balaka"], **over)
    iid = (await client.post("/api/v1/incidents", json=body, headers=auth("analyst"))).json()["id"]
    await client.post(f"/api/v1/incidents/{iid}/validate", headers=auth("analyst"))
    r = await client.post(f"/api/v1/incidents/{iid}/approve", headers=auth("admin"))
    assert r.status_code == 200, r.text
    return iid


def _centroid(res=6):
    return h3.cell_to_latlng(h3.latlng_to_cell(LAT, LON, res))


@pytest.mark.parametrize("path", [
    "/api/v1/incidents", "/api/v1/incidents?f=geojson", "/api/v1/hotspots",
    "/api/v1/hotspots/tiles/6/35/31.mvt", f"/api/v1/hotspots/{h3.latlng_to_cell(LAT, LON, 6)}",
    "/api/v1/hotspots/series?res=6&start=2024-01-01&end=2024-03-01&step_days=7",
    "/api/v1/exports/hotspots?as_of=2024-03-31&f=csv",
])
async def test_partners_may_not_filter_on_perpetrators(client, auth, conn, path):
    await _approved(client, auth)
    sep = "&" if "?" in path else "?"
    r = await client.get(f"{path}{sep}perpetrator=anti-balaka", headers=auth("partner"))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:kinga:problem:forbidden-filter"
    assert body["errors"] == [{"pointer": "/query/perpetrator", "detail": "not readable by this role"}]
    assert "551" not in r.text and "features" not in body
    # staff who may read perpetrators may filter on them
    assert (await client.get(f"{path}{sep}perpetrator=anti-balaka",
                             headers=auth("operations"))).status_code == 200


async def test_partner_incidents_are_snapped_to_their_cell_and_small_counts_withheld(client, auth):
    small = await _approved(client, auth, fatalities_best=2, injured=1, displaced=40)
    big = await _approved(client, auth, fatalities_best=5, occurred_start="2024-02-10T10:00:00Z")
    lat6, lon6 = _centroid()
    cell6 = h3.latlng_to_cell(LAT, LON, 6)
    listed = (await client.get("/api/v1/incidents", headers=auth("partner"))).json()["items"]
    got = {i["id"]: i for i in listed}
    for item in got.values():
        assert (item["latitude"], item["longitude"]) == (round(lat6, 6), round(lon6, 6))
        assert item["h3_cell"] == cell6
        assert item["location_radius_m"] >= 3000
    assert got[small]["fatalities_best"] is None and got[small]["injured"] is None
    assert got[small]["displaced"] == 40
    assert got[big]["fatalities_best"] == 5
    one = (await client.get(f"/api/v1/incidents/{small}", headers=auth("partner"))).json()
    assert (one["latitude"], one["longitude"], one["fatalities_best"]) == (round(lat6, 6),
                                                                          round(lon6, 6), None)
    geo = (await client.get("/api/v1/incidents?f=geojson", headers=auth("partner"))).json()
    for feat in geo["features"]:
        assert feat["geometry"]["coordinates"] == [round(lon6, 6), round(lat6, 6)]
    ogc = (await client.get("/ogc/collections/incidents/items", headers=auth("partner"))).json()
    for feat in ogc["features"]:
        assert feat["geometry"]["coordinates"] == [round(lon6, 6), round(lat6, 6)]
        assert feat["properties"]["fatalities_best"] in (None, 5)
    item = (await client.get(f"/ogc/collections/incidents/items/{small}",
                             headers=auth("partner"))).json()
    assert item["geometry"]["coordinates"] == [round(lon6, 6), round(lat6, 6)]
    assert str(LAT) not in str(geo) + str(ogc) + str(one) + str(listed)
    # staff keep the exact place and counts
    staff = (await client.get(f"/api/v1/incidents/{small}", headers=auth("operations"))).json()
    assert (staff["latitude"], staff["longitude"], staff["fatalities_best"]) == (LAT, LON, 2)


async def test_a_partner_bbox_selects_whole_cells_never_exact_points(client, auth):
    iid = await _approved(client, auth)
    lat6, lon6 = _centroid()
    assert abs(lat6 - LAT) > 0.001 or abs(lon6 - LON) > 0.001
    d = 0.0005

    async def ids(role, box, path="/api/v1/incidents"):
        r = await client.get(path, params={"bbox": ",".join(map(str, box))}, headers=auth(role))
        assert r.status_code == 200, r.text
        body = r.json()
        return [i["id"] for i in body.get("items", [])] or [f["id"] for f in body.get("features", [])]

    around_point = (LON - d, LAT - d, LON + d, LAT + d)
    around_centroid = (lon6 - d, lat6 - d, lon6 + d, lat6 + d)
    # staff filter on the exact point
    assert await ids("analyst", around_point) == [iid]
    assert await ids("analyst", around_centroid) == []
    # partners on the cell: a box around the exact point tells nothing, the cell's centre does
    for path in ("/api/v1/incidents", "/ogc/collections/incidents/items"):
        assert await ids("partner", around_point, path) == []
        assert await ids("partner", around_centroid, path) == [iid]


async def test_the_partner_ogc_extent_is_that_of_cells(client, auth):
    await _approved(client, auth)
    lat6, lon6 = _centroid()
    r = await client.get("/ogc/collections/incidents", headers=auth("partner"))
    assert r.json()["extent"]["spatial"]["bbox"] == [[round(lon6, 6), round(lat6, 6),
                                                      round(lon6, 6), round(lat6, 6)]]
    staff = await client.get("/ogc/collections/incidents", headers=auth("analyst"))
    assert staff.json()["extent"]["spatial"]["bbox"] == [[LON, LAT, LON, LAT]]


async def test_partner_incident_tiles_hold_cells_not_points_and_no_small_counts(client, auth):
    import mapbox_vector_tile

    from app.services.threat.tiles import EXTENT
    from tests.api.threat.test_hotspots_tiles import tile_of, to_tile_units

    small = await _approved(client, auth, fatalities_best=1)
    z = 12
    x, y = tile_of(LAT, LON, z)
    lat6, lon6 = _centroid()

    async def features(role):
        # the tile that holds the cell's centroid (the partner's point), and the exact point's
        tiles = {(x, y), tile_of(lat6, lon6, z)}
        out = []
        for tx, ty in tiles:
            r = await client.get(f"/api/v1/incidents/tiles/{z}/{tx}/{ty}.mvt", headers=auth(role))
            assert r.status_code == 200, r.text
            decoded = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})
            out += [(tx, ty, f) for f in decoded.get("incidents", {}).get("features", [])
                    if all(0 <= c < EXTENT for c in f["geometry"]["coordinates"])]  # not buffer
        return out

    staff = await features("analyst")
    assert [f["properties"]["fatalities_best"] for _, _, f in staff] == [1]
    sx, sy, sf = staff[0]
    px, py = to_tile_units(LAT, LON, z, sx, sy)
    assert abs(sf["geometry"]["coordinates"][0] - px) <= 1.5
    partner = await features("partner")
    assert len(partner) == 1
    tx, ty, pf = partner[0]
    assert (tx, ty) == tile_of(lat6, lon6, z)  # the tile of the centroid, wherever the point is
    cx, cy = to_tile_units(lat6, lon6, z, tx, ty)
    assert abs(pf["geometry"]["coordinates"][0] - cx) <= 1.5
    assert abs(pf["geometry"]["coordinates"][1] - cy) <= 1.5
    assert "fatalities_best" not in pf["properties"]  # 1 < KINGA_PARTNER_MIN_COUNT: left out
    assert pf["properties"]["id"] == small and pf["properties"]["location_radius_m"] >= 3000
