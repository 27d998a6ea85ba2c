"""The server errors issue 11 found on valid requests (its refusals are in the bad-input suite):
each now answers."""

from __future__ import annotations

from tests.conftest import incident_body


async def _incidents(client, auth, years):
    for year in years:
        body = incident_body(occurred_start=f"{year}-03-02T21:00:00Z", latitude=4.39 + year / 1e4)
        r = await client.post("/api/v1/incidents", json=body, headers=auth("analyst"))
        assert r.status_code == 201, r.text


async def test_a_forecast_with_no_incident_in_any_training_period_answers(client, auth):
    # A record that ends years before now: every training target of the count model is zero
    # (LightGBM's Poisson fit refused it: "sum of labels is zero", a 500 on every call).
    await _incidents(client, auth, range(2001, 2013))
    r = await client.get("/api/v1/forecast", headers=auth("analyst"))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and doc["method"] == "count"
    assert all(f["properties"]["expected_incidents"] >= 0 for f in doc["features"])
    review = await client.post("/api/v1/footprint-reviews", headers=auth("analyst"),
                               json={"as_of": "2024-03-01", "use_forecast": True})
    assert review.status_code == 200, review.text


async def test_a_forecast_with_no_incident_at_all_is_a_clear_404(client, auth):
    r = await client.get("/api/v1/forecast", headers=auth("analyst"))
    assert r.status_code == 404
    assert r.json()["type"] == "urn:kinga:problem:no-forecast-data"


async def test_the_longest_documented_window_reaches_events_decades_old(client, auth):
    # window_days=36600 (the documented maximum) over events 58+ years before its end: the
    # decay term underflowed PostgreSQL's exp() (a 500).
    await _incidents(client, auth, [1950, 1960, 2020])
    r = await client.get("/api/v1/hotspots?as_of=2024-01-01&window_days=36600&res=6",
                         headers=auth("analyst"))
    assert r.status_code == 200, r.text
    assert sum(f["properties"]["incidents"] for f in r.json()["features"]) == 3


async def test_405_names_every_method_of_the_path(client, auth):
    r = await client.delete("/api/v1/incidents", headers=auth("admin"))
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/problem+json"
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    r = await client.put("/api/v1/bases/00000000-0000-4000-8000-000000000000",
                         headers=auth("admin"))
    assert set(r.headers["allow"].split(", ")) == {"DELETE", "GET", "HEAD", "PATCH"}


async def test_the_openapi_document_declares_bearer_security_and_real_schemas(client):
    doc = (await client.get("/openapi.json")).json()
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "kinga token",
        "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"]}
    empty = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            public = path in ("/api/v1/health", "/api/v1/health/ping", "/map/countries.geojson")
            assert (op["security"] == []) == public, (method, path)
            if not public:
                assert {"401", "403", "503"} <= set(op["responses"]), (method, path)
                assert op["x-roles"], (method, path)
            for code, resp in op["responses"].items():
                for media, content in (resp.get("content") or {}).items():
                    if not content.get("schema"):
                        empty.append((method, path, code, media))
                    if code[0] in "45":
                        assert media == "application/problem+json", (method, path, code)
            if "{" in path:
                assert "404" in op["responses"], (method, path)
            if "requestBody" in op:
                assert {"413", "422"} <= set(op["responses"]), (method, path)
    assert empty == []
