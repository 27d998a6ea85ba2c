"""The collection registry: every collection declares its geometry type, extent and schema, serves
a non-empty default window on historical data, and is read as the caller's role allows."""

from datetime import date

import pytest
from lxml import etree

from app.services.ogc.collections import catalogue
from tests.api.threat.test_hotspots_api import add


def _base(conn, name="Camp A", lon=18.5, lat=4.4, opened=date(2015, 1, 1), closed=None):
    conn.execute(
        "INSERT INTO mission_base (name, kind, location, opened_on, closed_on, troops, "
        "road_patrols_per_day, created_by, updated_by) VALUES (%s, 'company_operating_base', "
        "ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, 300, 2, 't', 't')",
        (name, lon, lat, opened, closed))
    conn.commit()


async def test_historical_hotspots_show_their_last_window_by_default(client, auth, conn):
    # Incidents of 2024 only: "the last 90 days before now" would be empty.
    for i in range(4):
        add(conn, 4.39 + i * 0.01, 18.56, days_ago=10 + i)
    doc = (await client.get("/ogc/collections/hotspots/items", headers=auth("analyst"))).json()
    assert doc["numberMatched"] >= 1 and doc["features"]
    assert doc["window"]["end"].startswith("2024-06-2")
    one = doc["features"][0]
    item = await client.get(f"/ogc/collections/hotspots/items/{one['id']}", headers=auth("analyst"))
    assert item.status_code == 200 and item.json()["properties"]["incidents"] == \
        one["properties"]["incidents"]


async def test_every_collection_declares_schema_geometry_and_extent(client, auth):
    h = auth("analyst")
    for cid, c in catalogue().items():
        doc = (await client.get(f"/ogc/collections/{cid}", headers=h)).json()
        assert doc["extent"]["temporal"]["interval"] and doc["extent"]["spatial"]["bbox"]
        rels = {link["rel"]: link for link in doc["links"]}
        assert {"items", "describedby", "describedBy"} <= set(rels)
        schema = await client.get(f"/ogc/collections/{cid}/schema", headers=h)
        assert schema.headers["content-type"] == "application/schema+json"
        geometry = schema.json()["properties"]["geometry"]
        assert geometry["x-ogc-role"] == "primary-geometry"
        assert geometry["format"] == "geometry-" + c.geometry_type.lower()
        xsd = await client.get(f"/ogc/collections/{cid}/schema.xsd", headers=h)
        tree = etree.fromstring(xsd.content)
        types = tree.xpath("//xs:element[@name='geometry']/@type",
                           namespaces={"xs": "http://www.w3.org/2001/XMLSchema"})
        assert types == [f"gml:{c.geometry_type}PropertyType"]
        q = await client.get(f"/ogc/collections/{cid}/queryables", headers=h)
        assert set(c.properties) <= set(q.json()["properties"])


async def test_partners_do_not_see_warnings(client, auth):
    cols = (await client.get("/ogc/collections", headers=auth("partner"))).json()["collections"]
    assert "warnings" not in {c["id"] for c in cols} and "hotspots" in {c["id"] for c in cols}
    for path in ("", "/items", "/schema"):
        r = await client.get(f"/ogc/collections/warnings{path}", headers=auth("partner"))
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"


async def test_bases_default_to_todays_and_answer_a_date(client, auth, conn):
    _base(conn, "Open camp")
    _base(conn, "Closed camp", lon=19.0, closed=date(2016, 6, 30))
    h = auth("operations")
    today = (await client.get("/ogc/collections/bases/items", headers=h)).json()
    assert [f["properties"]["name"] for f in today["features"]] == ["Open camp"]
    p = today["features"][0]["properties"]
    assert p["reach_road_km"] > 0 and p["reach_foot_km"] is None  # no foot patrols
    then = (await client.get("/ogc/collections/bases/items?datetime=2016-01-15",
                             headers=h)).json()
    assert {f["properties"]["name"] for f in then["features"]} == {"Open camp", "Closed camp"}
    partner = (await client.get("/ogc/collections/bases/items", headers=auth("partner"))).json()
    assert "troops" not in partner["features"][0]["properties"]
    assert "reach_road_km" not in partner["features"][0]["properties"]
    extent = (await client.get("/ogc/collections/bases", headers=h)).json()["extent"]
    assert extent["temporal"]["interval"][0][1] is None  # a base is still open


async def test_forecast_defaults_after_the_newest_incident_and_limits_partners(client, auth, conn):
    for i in range(12):
        add(conn, 4.39 + (i % 3) * 0.05, 18.56, days_ago=5 + i * 7)
    doc = (await client.get("/ogc/collections/forecast/items?limit=5", headers=auth("analyst"))
           ).json()
    assert doc["features"] and doc["window"]["start"].startswith("2024-06-26")
    p = doc["features"][0]["properties"]
    assert p["expected_incidents"] >= 0 and p["horizon_days"] == 28 and p["origin"] < p["until"]
    r = await client.get("/ogc/collections/forecast/items?res=8", headers=auth("partner"))
    assert r.status_code == 403


@pytest.mark.parametrize("cid", ["bases", "warnings", "forecast", "incidents", "hotspots"])
async def test_empty_store_gives_empty_collections_not_errors(client, auth, cid):
    r = await client.get(f"/ogc/collections/{cid}/items", headers=auth("analyst"))
    assert r.status_code == 200 and r.json()["features"] == []
    assert (await client.get(f"/ogc/collections/{cid}", headers=auth("analyst"))).status_code == 200
