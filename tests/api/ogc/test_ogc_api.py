"""OGC API - Features: landing, conformance, collections, paging that walks every next link."""

import random

import pytest

from tests.api.threat.test_hotspots_api import AS_OF, add


async def test_landing_conformance_and_collections(client, auth, conn):
    add(conn)
    h = auth("operations")
    landing = (await client.get("/ogc", headers=h)).json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conf = (await client.get("/ogc/conformance", headers=h)).json()["conformsTo"]
    assert any(c.endswith("/conf/core") for c in conf) and any(c.endswith("/conf/geojson")
                                                               for c in conf)
    assert any(c.endswith("/conf/oas30") for c in conf)
    cols = (await client.get("/ogc/collections", headers=h)).json()["collections"]
    assert {"incidents", "hotspots", "bases", "warnings", "forecast"} <= {c["id"] for c in cols}
    for c in cols:
        if c["id"] in ("incidents", "hotspots", "forecast"):
            assert c["extent"]["spatial"]["bbox"][0][0] == pytest.approx(18.56)
        assert any(link["rel"] == "items" for link in c["links"])
        assert any(link["rel"] == "describedby" for link in c["links"])
    assert (await client.get("/ogc/collections/nope", headers=h)).status_code == 404


@pytest.mark.parametrize("collection", ["incidents", "hotspots"])
async def test_walking_next_links_returns_every_feature_once(client, auth, conn, collection):
    rng = random.Random(2)  # noqa: S311 (test data)
    for _ in range(23):
        add(conn, 4.0 + rng.random() * 3, 17.0 + rng.random() * 4, days_ago=rng.random() * 80)
    url = f"/ogc/collections/{collection}/items?limit=5&datetime=2024-04-01/2024-06-30&res=8"
    seen, pages = [], 0
    while url:
        r = await client.get(url, headers=auth("analyst"))
        assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
        doc = r.json()
        assert doc["numberReturned"] == len(doc["features"]) <= 5
        seen += [f["id"] for f in doc["features"]]
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        url = nxt[0] if nxt else None
        pages += 1
        if pages > 1:
            assert any(link["rel"] == "prev" for link in doc["links"])
    assert len(seen) == len(set(seen)) == doc["numberMatched"]
    assert pages == -(-doc["numberMatched"] // 5)
    one = await client.get(f"/ogc/collections/{collection}/items/{seen[0]}",
                           params={"datetime": "2024-04-01/2024-06-30"}, headers=auth("analyst"))
    assert one.status_code == 200 and one.json()["id"] == seen[0]


async def test_limit_is_capped_and_bad_parameters_refused(client, auth, conn, settings):
    add(conn)
    h = auth("analyst")
    r = await client.get("/ogc/collections/incidents/items?limit=1000000", headers=h)
    assert r.status_code == 200 and r.json()["numberReturned"] == 1
    assert "limit=1000000" in r.json()["links"][0]["href"]
    for q in ("limit=0", "bbox=3,2,1", "datetime=2024-02-01/2024-01-01", "f=html",
              "bbox=20,8,19,7"):
        r = await client.get(f"/ogc/collections/incidents/items?{q}", headers=h)
        assert r.status_code == 422, q
        assert r.headers["content-type"] == "application/problem+json"
    assert (await client.get("/ogc", headers=auth("integration"))).status_code == 403


async def test_partner_sees_only_approved_incidents_without_names(client, auth, conn):
    add(conn, perps=("Secret commander",))
    add(conn, status="entered")
    r = await client.get("/ogc/collections/incidents/items", headers=auth("partner"))
    assert r.json()["numberMatched"] == 1 and "Secret commander" not in r.text
    assert AS_OF.year == 2024
