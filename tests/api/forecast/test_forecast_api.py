"""GET /api/v1/forecast and /api/v1/forecast/backtest through the app: layer shape, roles,
no look-ahead, and every bad input refused with problem+json (and nothing written)."""

from __future__ import annotations

import h3
import pytest

from tests.db.forecast.test_forecast_repo import add

TOWNS = [(4.37, 18.56), (6.5, 21.99), (7.3, 22.7)]
BACKTEST_QUERY = {"res": 5, "horizon": "quarter", "start": "2020-01-01", "end": "2021-06-30",
                  "methods": "etas,count"}


def seed(conn, n_per_month: int = 1) -> None:
    for year in (2019, 2020, 2021):
        for month in range(1, 13):
            for i in range(n_per_month):
                lat, lng = TOWNS[(month + i) % len(TOWNS)]
                add(
                    conn,
                    f"{year}-{month:02d}-{10 + i:02d}T00:00:00Z",
                    lat,
                    lng,
                    fatalities=month % 4,
                )


def n_rows(conn) -> int:
    return conn.execute(
        "SELECT (SELECT count(*) FROM incident) + (SELECT count(*) FROM audit_event)"
    ).fetchone()[0]


@pytest.mark.parametrize("method", [None, "etas", "count", "count_spatial", "decay", "history"])
async def test_forecast_is_a_hexagon_feature_collection(client, auth, conn, method):
    seed(conn)
    params = {"res": 6, "as_of": "2022-01-01", "horizon_days": 28}
    if method:
        params["method"] = method
    r = await client.get("/api/v1/forecast", params=params, headers=auth("operations"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and doc["features"]
    for f in doc["features"]:
        assert h3.is_valid_cell(f["id"]) and h3.get_resolution(f["id"]) == 6
        ring = f["geometry"]["coordinates"][0]
        assert f["geometry"]["type"] == "Polygon" and ring[0] == ring[-1]
        p = f["properties"]
        assert set(p) >= {"expected_incidents", "expected_harm", "p_incident", "method"}
        assert 0 <= p["p_incident"] <= 1 and p["expected_incidents"] >= 0
        assert p["method"] == (method or "count")
    e = [f["properties"]["expected_incidents"] for f in doc["features"]]
    assert e == sorted(e, reverse=True)
    towns = {h3.latlng_to_cell(lat, lng, 6) for lat, lng in TOWNS}
    assert {f["id"] for f in doc["features"][:3]} == towns


async def test_a_later_incident_cannot_change_an_earlier_forecast(client, auth, conn):
    seed(conn)
    params = {"res": 6, "as_of": "2021-07-01", "horizon_days": 91}
    first = (await client.get("/api/v1/forecast", params=params, headers=auth("analyst"))).json()
    add(conn, "2021-07-01T00:00:00Z", 5.0, 20.0, fatalities=40)
    add(conn, "2021-08-01T00:00:00Z", 4.37, 18.56, fatalities=40)
    conn.execute("UPDATE incident SET fatalities_best = 77 WHERE occurred_start >= '2021-07-01'")
    conn.commit()
    again = (await client.get("/api/v1/forecast", params=params, headers=auth("analyst"))).json()
    assert again["features"] == first["features"]


async def test_bbox_limits_the_layer(client, auth, conn):
    seed(conn)
    r = await client.get(
        "/api/v1/forecast",
        headers=auth("analyst"),
        params={"res": 6, "as_of": "2022-01-01", "bbox": "18,4,19,5"},
    )
    assert r.status_code == 200
    lats = [h3.cell_to_latlng(f["id"])[0] for f in r.json()["features"]]
    assert lats and all(4 <= lat <= 5 for lat in lats)


@pytest.mark.parametrize(
    "params,status,kind,pointer",
    [
        ({"horizon_days": 0}, 422, "validation", "/query/horizon_days"),
        ({"horizon_days": -7}, 422, "validation", "/query/horizon_days"),
        ({"res": 3}, 422, "validation", "/query/res"),
        ({"res": 10}, 422, "validation", "/query/res"),
        ({"method": "oracle"}, 422, "validation", "/query/method"),
        ({"as_of": "yesterday"}, 422, "validation", "/query/as_of"),
        ({"as_of": "2001-01-01"}, 422, "forecast-before-history", "/query/as_of"),
        ({"bbox": "10,-10,11,-9"}, 404, "no-forecast-data", "/query/bbox"),
    ],
)
async def test_bad_forecast_requests_are_problems(
    client, auth, conn, params, status, kind, pointer
):
    seed(conn)
    before = n_rows(conn)
    r = await client.get(
        "/api/v1/forecast",
        params={"res": 6, "as_of": "2022-01-01", **params},
        headers=auth("analyst"),
    )
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == f"urn:kinga:problem:{kind}"
    assert any(e["pointer"] == pointer for e in body["errors"])
    assert n_rows(conn) == before


async def test_no_incidents_at_all_is_404(client, auth, conn):
    r = await client.get("/api/v1/forecast", params={"res": 6}, headers=auth("analyst"))
    assert r.status_code == 404 and r.json()["type"] == "urn:kinga:problem:no-forecast-data"
    assert n_rows(conn) == 0


async def test_roles(client, auth, conn):
    seed(conn)
    q = {"res": 6, "as_of": "2022-01-01"}
    for role, status in (("integration", 403), ("partner", 200), ("operations", 200)):
        r = await client.get("/api/v1/forecast", params=q, headers=auth(role))
        assert r.status_code == status, role
    assert (await client.get("/api/v1/forecast", params=q)).status_code == 401
    r = await client.get("/api/v1/forecast", params={**q, "res": 7}, headers=auth("partner"))
    assert r.status_code == 403 and r.json()["errors"][0]["pointer"] == "/query/res"
    bq = {"start": "2021-01-01", "end": "2021-06-30"}
    assert (
        await client.get("/api/v1/forecast/backtest", params=bq, headers=auth("operations"))
    ).status_code == 403


async def test_partners_forecast_from_approved_incidents_only(client, auth, conn):
    seed(conn)
    add(conn, "2021-12-20T00:00:00Z", 5.0, 20.0, status="entered", fatalities=30)
    q = {"res": 6, "as_of": "2022-01-01", "method": "decay"}
    unvalidated = h3.latlng_to_cell(5.0, 20.0, 6)
    analyst = (await client.get("/api/v1/forecast", params=q, headers=auth("analyst"))).json()
    partner = (await client.get("/api/v1/forecast", params=q, headers=auth("partner"))).json()
    assert unvalidated in {f["id"] for f in analyst["features"]}
    assert unvalidated not in {f["id"] for f in partner["features"]}


async def test_backtest_reports_every_method(client, auth, conn):
    seed(conn, n_per_month=2)
    r = await client.get(
        "/api/v1/forecast/backtest",
        headers=auth("analyst"),
        params=BACKTEST_QUERY,
    )
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["origins"] == 6 and doc["incidents"] == 36
    assert set(doc["methods"]) == {"auto", "etas", "count", "decay", "last_90d", "last_365d",
                                   "history"}
    assert doc["shipped"] == "auto" and doc["best_baseline"] in doc["methods"]
    for m in doc["methods"].values():
        assert {"pai_1pct", "pai_5pct", "harm_capture_1pct", "brier", "reliability"} <= set(m)
    # the models are calibrated out of time on the warm-up and earlier origins; their
    # uncalibrated Brier is reported beside, and both P(>=1) maps (isotonic serves)
    cals = doc["methods"]["count"]["calibrations"]
    assert set(cals) == {"uncalibrated", "isotonic", "platt"}
    assert cals["isotonic"]["brier"] == doc["methods"]["count"]["brier"]
    assert doc["selection"]["per_origin"] and doc["warmup_origins"] == 8
    ceiling = doc["ceiling"]
    assert set(ceiling) == {"any_cell", "previously_hit", "previously_hit_or_ring1"}
    assert all(m["pai_1pct"] <= ceiling["any_cell"]["pai_1pct"] for m in doc["methods"].values())
    again = await client.get(
        "/api/v1/forecast/backtest",
        headers=auth("analyst"),
        params=BACKTEST_QUERY,
    )
    assert again.json() == doc
    # A new incident inside a scored period moves the data version: no stale cached backtest.
    add(conn, "2021-02-20T00:00:00Z", *TOWNS[0])
    after = await client.get(
        "/api/v1/forecast/backtest",
        headers=auth("analyst"),
        params=BACKTEST_QUERY,
    )
    assert after.json()["incidents"] == 37


@pytest.mark.parametrize(
    "params,pointer",
    [
        ({"horizon": "fortnight"}, "/query/horizon"),
        ({"res": 8}, "/query/res"),
        ({"res": 3}, "/query/res"),
        ({"start": "2022-01-01", "end": "2021-01-01"}, "/query/end"),
        ({"start": "1990-01-01", "end": "2022-12-31"}, "/query/start"),  # too many origins
        ({"methods": "etas,oracle"}, "/query/methods"),
        ({"start": "not-a-date"}, "/query/start"),
    ],
)
async def test_bad_backtest_requests_are_422(client, auth, conn, params, pointer):
    seed(conn)
    before = n_rows(conn)
    q = {"res": 6, "horizon": "quarter", "start": "2021-01-01", "end": "2021-06-30", **params}
    r = await client.get("/api/v1/forecast/backtest", params=q, headers=auth("analyst"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert any(e["pointer"] == pointer for e in r.json()["errors"])
    assert n_rows(conn) == before
