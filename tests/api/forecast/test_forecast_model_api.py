"""The model card (GET /api/v1/forecast/model), `auto` serving the backtest's choice with its
calibration and 80 % intervals, and bad input refused with problem+json and nothing written."""

from __future__ import annotations

from datetime import date

import pytest

from app.db import make_async_engine, make_sessionmaker
from app.services import forecast as svc
from tests.api.forecast.test_forecast_api import n_rows, seed
from tests.db.forecast.test_forecast_repo import add


async def store_backtested_card(settings, methods=("blend",)) -> dict:
    """Run the real backtest on the seeded incidents and store its card, as `kinga backtest`
    does (without the planning part)."""
    s = settings.model_copy(update={"forecast_selection_warmup": 2,
                                    "forecast_selection_min_origins": 1})
    engine = make_async_engine(s)
    try:
        async with make_sessionmaker(engine)() as session:
            periods, names = svc.backtest_plan(6, "quarter", date(2020, 7, 1), date(2021, 7, 1),
                                               list(methods), s)
            ev, stamp = await svc.load_backtest_events(session, 6, periods[-1][1], s)
            result = svc.run_backtest(ev, 6, "quarter", periods, names, s)
            card = svc.build_card(result, None)
            await svc.store_card(session, card, int(stamp[2]) if stamp[0] == "version" else None)
    finally:
        await engine.dispose()
    return card


async def test_without_a_backtest_the_card_says_what_serves_and_why(client, auth, conn):
    seed(conn)
    r = await client.get("/api/v1/forecast/model", params={"res": 6}, headers=auth("analyst"))
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["backtested"] is False and card["area"] == "minusca"  # the default mission
    assert card["serving"]["method"] == "count" and "no backtest" in card["serving"]["why"]
    fc = (await client.get("/api/v1/forecast", params={"res": 6, "as_of": "2022-01-01"},
                           headers=auth("analyst"))).json()
    assert fc["method"] == "count" and fc["selected_by"] == "auto"


async def test_auto_serves_the_backtests_choice_calibrated_with_intervals(
    client, auth, conn, settings
):
    seed(conn, n_per_month=3)
    card = await store_backtested_card(settings)
    chosen = card["serving"]["method"]
    r = await client.get("/api/v1/forecast/model", params={"res": 6}, headers=auth("partner"))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["backtested"] is True and doc["serving"]["method"] == chosen
    assert doc["data_changed_since"] is False and "calibrations" not in doc
    methods = doc["backtest"]["methods"]
    assert {"auto", "decay", "history", "last_90d", "last_365d"} <= set(methods)
    assert doc["backtest"]["best_baseline"] in {"decay", "history", "last_90d", "last_365d"}
    assert doc["calibration"]["reliability"] and doc["backtest"]["ceiling"]["previously_hit"]
    # the layer now serves that model; a quarter horizon gets the card's calibration
    q = {"res": 6, "as_of": "2022-01-01", "horizon_days": 91}
    fc = (await client.get("/api/v1/forecast", params=q, headers=auth("analyst"))).json()
    assert fc["method"] == chosen and fc["selected_by"] == "auto"
    if chosen not in ("decay", "history", "last_90d", "last_365d"):
        assert fc["calibration"].startswith("rolling")
    total = fc["expected_incidents_total"]
    assert total["low"] <= total["expected"] <= total["high"]
    for f in fc["features"]:
        p = f["properties"]
        assert p["expected_incidents_low"] <= p["expected_incidents_high"]
        assert p["expected_incidents_low"] <= max(p["expected_incidents"], 0) + 1
    # a 4-week request does not borrow the quarter's calibration
    q4 = {**q, "horizon_days": 28}
    fc4 = (await client.get("/api/v1/forecast", params=q4, headers=auth("analyst"))).json()
    assert not fc4["calibration"].startswith("rolling")
    # a new incident: the card says its data have changed since
    add(conn, "2021-12-01T00:00:00Z", 4.37, 18.56)
    again = (await client.get("/api/v1/forecast/model", params={"res": 6},
                              headers=auth("analyst"))).json()
    assert again["data_changed_since"] is True


async def test_model_card_roles(client, auth, conn):
    seed(conn)
    for role, status in (("integration", 403), ("partner", 200), ("operations", 200),
                         ("admin", 200)):
        r = await client.get("/api/v1/forecast/model", headers=auth(role))
        assert r.status_code == status, role
    assert (await client.get("/api/v1/forecast/model")).status_code == 401


@pytest.mark.parametrize(
    "params,pointer",
    [
        ({"res": 12}, "/query/res"),
        ({"res": 3}, "/query/res"),
        ({"horizon": "fortnight"}, "/query/horizon"),
        ({"mission": "ATLANTIS"}, "/query/mission"),
    ],
)
async def test_bad_model_card_requests_are_422(client, auth, conn, params, pointer):
    seed(conn)
    before = n_rows(conn)
    r = await client.get("/api/v1/forecast/model", params=params, headers=auth("analyst"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "urn:kinga:problem:validation"
    assert any(e["pointer"] == pointer for e in r.json()["errors"])
    assert n_rows(conn) == before
    assert conn.execute("SELECT count(*) FROM forecast_model_card").fetchone()[0] == 0


async def test_unknown_mission_in_a_forecast_is_422(client, auth, conn):
    seed(conn)
    r = await client.get("/api/v1/forecast", params={"res": 6, "as_of": "2022-01-01",
                                                     "mission": "ATLANTIS"},
                         headers=auth("analyst"))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/query/mission"
