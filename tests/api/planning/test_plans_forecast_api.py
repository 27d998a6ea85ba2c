"""Through HTTP: a plan made with the forecast sends the patrol where violence is expected,
not only where it has been; the weight is the request's, else the area's backtested default."""

from __future__ import annotations

import h3

from tests.api.planning.test_patrols_api import BAMBARI
from tests.db.forecast.test_forecast_repo import add

RECENT = (5.78, 20.69)  # three killings in the last ten days: the highest current threat
LONG_RUNNING = (5.66, 20.58)  # one incident in the window, forty over the five years before


def seed(conn) -> None:
    for day in (1, 4, 8):
        add(conn, f"2024-03-0{day}T12:00:00Z", *RECENT, fatalities=2)
    add(conn, "2024-01-30T12:00:00Z", *LONG_RUNNING, fatalities=1)
    for i in range(40):
        year, month = 2019 + i // 10, 1 + (i % 10)
        add(conn, f"{year}-{month:02d}-15T12:00:00Z", *LONG_RUNNING, fatalities=3)


async def plan(client, auth, bambari, **over):
    body = {"as_of": "2024-03-10", "horizon_days": 1, "base_ids": [bambari],
            "capacity_overrides": [{"base_id": bambari, "mode": "road", "patrols_per_day": 1},
                                   {"base_id": bambari, "mode": "foot", "patrols_per_day": 0}],
            **over}
    r = await client.post("/api/v1/patrol-plans", json=body, headers=auth("operations"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_forecast_moves_the_one_patrol_to_where_violence_is_expected(
    client, auth, conn
):
    bambari = (await client.post("/api/v1/bases", json=BAMBARI, headers=auth("admin"))).json()["id"]
    seed(conn)
    # incidents are indexed at res 9; coarser cells are their parents
    recent = h3.cell_to_parent(h3.latlng_to_cell(*RECENT, 9), 7)
    long_running = h3.cell_to_parent(h3.latlng_to_cell(*LONG_RUNNING, 9), 7)
    without = await plan(client, auth, bambari)
    assert [t["cell_ids"][0] for t in without["tasks"]] == [recent]
    assert without["summary"]["forecast_weight"] == 0.0
    with_fc = await plan(client, auth, bambari, use_forecast=True, forecast_method="history",
                         forecast_weight=0.8)
    assert [t["cell_ids"][0] for t in with_fc["tasks"]] == [long_running]
    s = with_fc["summary"]
    assert s["forecast_weight"] == 0.8 and s["forecast_weight_basis"] == "given in the request"
    assert s["forecast_covered_share"] > 0.5  # most of the forecast harm is in that one cell
    # without a stored backtest the configured default weight applies, and says so
    default = await plan(client, auth, bambari, use_forecast=True, forecast_method="history")
    assert default["summary"]["forecast_weight_basis"].startswith("configured default")


async def test_a_footprint_review_takes_the_forecast_weight(client, auth, conn):
    await client.post("/api/v1/bases", json=BAMBARI, headers=auth("admin"))
    seed(conn)
    body = {"as_of": "2024-03-10", "use_forecast": True, "forecast_method": "history",
            "forecast_weight": 0.5, "p": 1}
    r = await client.post("/api/v1/footprint-reviews", json=body, headers=auth("analyst"))
    assert r.status_code == 200, r.text
    assert r.json()["summary"]["forecast_weight"] == 0.5
    r = await client.post("/api/v1/footprint-reviews", json={**body, "use_forecast": False},
                          headers=auth("analyst"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/body/forecast_weight"
