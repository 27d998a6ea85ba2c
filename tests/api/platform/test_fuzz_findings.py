"""Server errors schemathesis found (bench/fuzz_api.py over the bundled real data), each
answered now: a valid request with its answer, a bad one refused with problem+json and nothing
written."""

from __future__ import annotations

from tests.api.forecast.test_forecast_api import seed

PROBLEM = "application/problem+json"


def n_rows(conn) -> int:
    n = conn.execute("SELECT (SELECT count(*) FROM incident) + (SELECT count(*) FROM audit_event)"
                     " + (SELECT count(*) FROM warning)").fetchone()[0]
    conn.commit()
    return n


async def test_a_forecast_from_a_record_that_ended_years_before_answers(client, auth, conn):
    """Incidents 2019-2021, forecast from 2026: no training period saw an incident. LightGBM's
    Poisson fit refused ("sum of labels is zero") and GET /forecast, the OGC forecast collection
    and scenarios answered 500; now the count model falls back to each cell's recent rate."""
    seed(conn)
    r = await client.get("/api/v1/forecast", params={"res": 6, "as_of": "2026-06-01",
                                                     "method": "count"}, headers=auth("analyst"))
    assert r.status_code == 200, r.text
    assert r.json()["type"] == "FeatureCollection"
    assert all(f["properties"]["expected_incidents"] == 0 for f in r.json()["features"])
    r = await client.post("/api/v1/scenarios", json={"as_of": "2026-06-01", "res": 6,
                                                     "method": "count"},
                          headers=auth("operations"))
    assert r.status_code == 200, r.text
    assert r.json()["likely"]["incidents"] == 0


async def test_a_scenario_dated_beyond_any_plan_is_refused(client, auth, conn):
    """`as_of` 6476-09-13 was accepted and forecast (500); scenario dates are calendar dates
    1900 … 2200 like every plan's."""
    seed(conn)
    before = n_rows(conn)
    for as_of in ("6476-09-13", "1899-12-31"):
        r = await client.post("/api/v1/scenarios", json={"as_of": as_of},
                              headers=auth("operations"))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["errors"][0]["pointer"] == "/body/as_of"
    r = await client.post("/api/v1/scenarios", json={"as_of": "2022-01-01", "title": "a\x00b"},
                          headers=auth("operations"))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/title"
    assert n_rows(conn) == before


async def test_a_subnormal_decay_scale_is_refused(client, auth, conn):
    """`decay_scale_days=5e-324` (a subnormal double, > 0) made age / scale overflow in SQL:
    the hotspot layer and its tiles answered 500 wherever an incident was in the window."""
    seed(conn)
    before = n_rows(conn)
    for url in ("/api/v1/hotspots", "/api/v1/hotspots/tiles/6/35/31.mvt"):
        r = await client.get(url, params={"as_of": "2021-12-31", "decay_scale_days": "5e-324"},
                             headers=auth("analyst"))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["errors"][0]["pointer"] == "/query/decay_scale_days"
        ok = await client.get(url, params={"as_of": "2021-12-31", "decay_scale_days": "0.01"},
                              headers=auth("analyst"))
        assert ok.status_code == 200, ok.text
    r = await client.post("/api/v1/patrol-plans", json={"as_of": "2021-12-31",
                                                        "decay_scale_days": 5e-324},
                          headers=auth("operations"))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/decay_scale_days"
    assert n_rows(conn) == before


async def test_briefs_over_a_record_that_ended_years_before_answer(client, auth, conn):
    """A brief's forecast section trained on periods without incident: GET and POST /briefs
    answered 500 (the same LightGBM refusal)."""
    seed(conn)
    r = await client.get("/api/v1/briefs", params={"as_of": "2026-06-01", "charts": "false"},
                         headers=auth("analyst"))
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/briefs", json={"as_of": "2026-06-01"}, headers=auth("analyst"))
    assert r.status_code == 201, r.text


async def test_a_cell_wider_than_64_bits_is_refused(client, auth, conn):
    """GET /hotspots/{cell} with 30 digits: H3 raised OverflowError (500)."""
    before = n_rows(conn)
    for cell in ("999999999999999999999999999999", "f" * 40):
        r = await client.get(f"/api/v1/hotspots/{cell}", headers=auth("analyst"))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["errors"][0]["pointer"] == "/path/cell"
    assert n_rows(conn) == before


async def test_a_webhook_url_that_is_not_a_url_is_refused(client, auth, conn):
    """`http://[::1/h` (an unclosed IPv6 literal): urlsplit raised ValueError (500)."""
    before = conn.execute("SELECT count(*) FROM webhook_subscription").fetchone()[0]
    conn.commit()
    r = await client.post("/api/v1/warnings/subscriptions", headers=auth("admin"),
                          json={"name": "partner-ops", "url": "http://[::1/h"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["errors"][0]["pointer"] == "/body/url"
    after = conn.execute("SELECT count(*) FROM webhook_subscription").fetchone()[0]
    conn.commit()
    assert after == before
