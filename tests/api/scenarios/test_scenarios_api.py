"""POST /api/v1/scenarios: the worst plausible period of an area from the forecast's upper
range, the bases and quick reaction forces in reach, what a closure would leave; JSON and a
printable page; roles; bad input refused with problem+json and nothing written."""

from __future__ import annotations

import pytest

from tests.api.planning.test_patrols_api import BAMBARI, FAR
from tests.db.forecast.test_forecast_repo import add

BODY = {"as_of": "2024-03-10", "horizon_days": 91, "res": 6, "method": "history", "cells": 10}
HOT = [(5.78, 20.69, "killing"), (5.66, 20.58, "abduction"), (4.37, 18.56, "sexual_violence")]


def seed(conn) -> None:
    for i in range(60):
        lat, lng, cat = HOT[i % 3]
        add(conn, f"{2021 + i // 24}-{1 + (i % 12):02d}-{1 + i % 27:02d}T12:00:00Z", lat, lng,
            fatalities=2, category=cat)


def count(conn) -> int:
    return conn.execute(
        "SELECT (SELECT count(*) FROM incident) + (SELECT count(*) FROM mission_base) + "
        "(SELECT count(*) FROM audit_event) + (SELECT count(*) FROM forecast_model_card)"
    ).fetchone()[0]


async def bases(client, auth):
    for b in (BAMBARI, FAR):
        r = await client.post("/api/v1/bases", json=b, headers=auth("admin"))
        assert r.status_code == 201


async def test_scenario_pack_from_the_upper_range(client, auth, conn):
    seed(conn)
    await bases(client, auth)
    r = await client.post("/api/v1/scenarios", json=BODY, headers=auth("operations"))
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["scenario"]["area"] == "minusca" and s["scenario"]["forecast_method"] == "history"
    lo, hi = s["likely"]["interval_80"]
    assert lo <= s["likely"]["incidents"] <= hi == s["worst_plausible"]["incidents"]
    cells = s["worst_plausible"]["cells"]
    assert 1 <= len(cells) <= 10
    for c in cells:
        assert c["worst_plausible_incidents"] >= max(1, c["likely_incidents"] - 1e-9)
        assert c["categories"] and sum(k["share"] for k in c["categories"]) <= 1.0001
    worst = [(c["worst_plausible_incidents"], c["worst_plausible_harm"]) for c in cells]
    assert worst == sorted(worst, reverse=True)
    near_bambari = [c for c in cells if "Bambari" in c["bases_in_reach"]]
    assert near_bambari and all(q["base"] == "Bambari" for c in near_bambari for q in c["qrf"])
    assert s["quick_reaction_forces"] == ["Bambari"]
    bambari = next(b for b in s["bases"] if b["name"] == "Bambari")
    assert bambari["worst_cells_in_reach"] == len(near_bambari)
    # Bangui is beyond both bases: it appears as uncovered, and closing Bambari leaves its cells
    assert any(c["bases_in_reach"] == [] for c in cells) == bool(s["beyond_every_base"])
    assert set(bambari["left_uncovered_if_closed"]["cells"]) == {c["cell"] for c in near_bambari}


async def test_scenario_as_a_printable_page(client, auth, conn):
    seed(conn)
    await bases(client, auth)
    r = await client.post("/api/v1/scenarios?f=html", json=BODY, headers=auth("analyst"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "<table>" in page and "Worst plausible" in page and "Bambari" in page
    assert "<script" not in page
    r = await client.post("/api/v1/scenarios", json={**BODY, "title": "<b>Exercise</b>"},
                          headers={**auth("analyst"), "Accept": "text/html"})
    assert "&lt;b&gt;Exercise&lt;/b&gt;" in r.text  # escaped, never markup


async def test_scenario_roles(client, auth, conn):
    seed(conn)
    for role, status in (("partner", 403), ("integration", 403), ("admin", 200)):
        r = await client.post("/api/v1/scenarios", json=BODY, headers=auth(role))
        assert r.status_code == status, role
    assert (await client.post("/api/v1/scenarios", json=BODY)).status_code == 401


BAD = [
    ({"horizon_days": 0}, 422, "validation", "/body/horizon_days"),
    ({"horizon_days": 400}, 422, "validation", "/body/horizon_days"),
    ({"res": 12}, 422, "validation", "/body/res"),
    ({"bbox": [30, 5, 20, 6]}, 422, "validation", "/body/bbox"),
    ({"method": "oracle"}, 422, "validation", "/body/method"),
    ({"mission": "ATLANTIS"}, 422, "validation", "/body/mission"),
    ({"cells": 0}, 422, "validation", "/body/cells"),
    ({"as_of": "2001-01-01"}, 422, "forecast-before-history", "/body/as_of"),
    ({"as_of": "soon"}, 422, "validation", "/body/as_of"),
    ({"colour": "red"}, 422, "validation", "/body/colour"),
    ({"bbox": [10, -10, 11, -9]}, 404, "no-forecast-data", "/body/bbox"),
]


@pytest.mark.parametrize("over,status,kind,pointer", BAD, ids=[p for *_, p in BAD])
async def test_bad_scenario_requests_are_problems_and_write_nothing(
    client, auth, conn, over, status, kind, pointer
):
    seed(conn)
    before = count(conn)
    r = await client.post("/api/v1/scenarios", json={**BODY, **over}, headers=auth("analyst"))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == f"urn:kinga:problem:{kind}"
    assert any(e["pointer"] == pointer for e in r.json()["errors"]), r.json()
    assert count(conn) == before
