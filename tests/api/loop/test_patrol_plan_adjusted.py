"""A patrol plan saved as its planners adjusted it: capacity changed per base and mode for this
plan, tasks dropped and cells added, and the record holds exactly those tasks. Bad adjustments
(a malformed cell, one at another resolution or outside the mission area, a cell tasked twice, a
base the plan does not use, a capacity below 0 or absurd, replacing a plan that already has
patrol reports) are refused with problem+json and a pointer, and write nothing."""

from __future__ import annotations

import h3
import pytest

from tests.api.planning.test_patrols_api import PLAN, seed
from tests.support.loop import writes

RES = 7  # the plans' default resolution (KINGA_PATROL_RES)


def _choices(tasks):
    return [{"cell_id": t["cell_ids"][0], "base_id": t["base_id"], "mode": t["mode"]} for t in tasks]


async def _plan(client, auth, **over):
    r = await client.post("/api/v1/patrol-plans", json={**PLAN, **over}, headers=auth("operations"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_saved_plan_is_the_adjusted_one(client, auth, conn):
    bambari, _ = await seed(client, auth)
    capacity = [{"base_id": bambari, "mode": "road", "patrols_per_day": 1},
                {"base_id": bambari, "mode": "foot", "patrols_per_day": 0}]
    generated = await _plan(client, auth, capacity_overrides=capacity)
    default = await _plan(client, auth)
    # The capacity on screen is the capacity planned with: no foot patrols, one road patrol a day.
    assert {t["mode"] for t in generated["tasks"]} <= {"road"}
    assert {t["mode"] for t in default["tasks"]} != {t["mode"] for t in generated["tasks"]} \
        or len(default["tasks"]) != len(generated["tasks"])
    road = next(p for p in generated["summary"]["patrols"] if p["base_id"] == bambari and p["mode"] == "road")
    assert road["available"] == 7
    assert len(generated["tasks"]) >= 2, generated["tasks"]
    dropped, *kept = generated["tasks"]
    tasked = {t["cell_ids"][0] for t in generated["tasks"]}
    added = next(c for c in h3.grid_ring(kept[0]["cell_ids"][0], 3) if c not in tasked)
    choices = _choices(kept) + [{"cell_id": added, "base_id": bambari, "mode": "foot"}]
    r = await client.post("/api/v1/patrol-plans", headers=auth("operations"),
                          json={**PLAN, "capacity_overrides": capacity, "tasks": choices, "save": True})
    assert r.status_code == 201, r.text
    plan = (await client.get(f"/api/v1/patrol-plans/{r.json()['id']}", headers=auth("analyst"))).json()
    assert _choices(plan["tasks"]) == choices
    assert dropped["cell_ids"][0] not in {t["cell_ids"][0] for t in plan["tasks"]}
    # Kept tasks are the planner's own (same id and details); the added cell got a task of its own.
    assert [t["id"] for t in plan["tasks"][:-1]] == [t["id"] for t in kept]
    assert [t["reason"] for t in plan["tasks"][:-1]] == [t["reason"] for t in kept]
    new = plan["tasks"][-1]
    assert new["id"] not in {t["id"] for t in generated["tasks"]}
    assert new["base_name"] == "Bambari" and new["desired_effect"] and new["time_window"]
    assert new["distance_km"] > 0 and new["cells"]["features"][0]["id"] == added
    assert plan["summary"]["adjusted"] is True and plan["summary"]["tasks"] == len(choices)
    assert plan["parameters"]["capacity_overrides"][0]["patrols_per_day"] == 1
    assert plan["parameters"]["tasks"] == choices
    # Reports go against the adjusted tasks; the dropped one takes none.
    ok = await client.post(f"/api/v1/patrol-plans/{plan['id']}/tasks/{new['id']}/report",
                           headers=auth("operations"),
                           json={"status": "done", "started_at": "2024-03-11T08:00:00Z"})
    assert ok.status_code == 201, ok.text
    if dropped["id"] not in {t["id"] for t in plan["tasks"]}:
        r = await client.post(f"/api/v1/patrol-plans/{plan['id']}/tasks/{dropped['id']}/report",
                              headers=auth("operations"), json={"status": "not_done", "reason": "x"})
        assert r.status_code == 404


async def test_a_task_moved_to_another_mode_keeps_its_number(client, auth):
    bambari, _ = await seed(client, auth)
    generated = await _plan(client, auth)
    first = generated["tasks"][0]
    other = "road" if first["mode"] != "road" else "foot"
    choices = _choices(generated["tasks"])
    choices[0]["mode"] = other
    r = await client.post("/api/v1/patrol-plans", headers=auth("operations"),
                          json={**PLAN, "tasks": choices})
    assert r.status_code == 200, r.text
    moved = r.json()["tasks"][0]
    assert moved["id"] == first["id"] and moved["mode"] == other
    assert r.json()["summary"]["tasks"] == len(generated["tasks"])


def _bad_cases():
    near = h3.latlng_to_cell(5.78, 20.69, RES)
    return [
        ("not a cell", lambda b: [{"cell_id": "zzz", "base_id": b, "mode": "road"}],
         None, "/body/tasks/0/cell_id"),
        ("another resolution", lambda b: [{"cell_id": h3.latlng_to_cell(5.78, 20.69, 5),
                                           "base_id": b, "mode": "road"}], None, "/body/tasks/0/cell_id"),
        ("outside the mission area", lambda b: [{"cell_id": h3.latlng_to_cell(48.85, 2.35, RES),
                                                 "base_id": b, "mode": "air"}], None, "/body/tasks/0/cell_id"),
        ("tasked twice", lambda b: [{"cell_id": near, "base_id": b, "mode": "road"},
                                    {"cell_id": near, "base_id": b, "mode": "foot"}], None,
         "/body/tasks/1/cell_id"),
        ("unknown base", lambda b: [{"cell_id": near, "base_id": "7d3c1c52-0000-4000-8000-000000000001",
                                     "mode": "road"}], None, "/body/tasks/0/base_id"),
        ("unknown mode", lambda b: [{"cell_id": near, "base_id": b, "mode": "boat"}], None,
         "/body/tasks/0/mode"),
        ("negative capacity", None, lambda b: [{"base_id": b, "mode": "road", "patrols_per_day": -1}],
         "/body/capacity_overrides/0/patrols_per_day"),
        ("absurd capacity", None, lambda b: [{"base_id": b, "mode": "road", "patrols_per_day": 5000}],
         "/body/capacity_overrides/0/patrols_per_day"),
        ("capacity set twice", None, lambda b: [{"base_id": b, "mode": "road", "patrols_per_day": 1},
                                                {"base_id": b, "mode": "road", "patrols_per_day": 2}],
         "/body/capacity_overrides/1"),
    ]


@pytest.mark.parametrize("name,tasks,capacity,pointer", _bad_cases(), ids=[c[0] for c in _bad_cases()])
async def test_bad_adjustments_are_refused_and_write_nothing(client, auth, conn, name, tasks, capacity,
                                                             pointer):
    bambari, _ = await seed(client, auth)
    body = {**PLAN, "save": True}
    if tasks:
        body["tasks"] = tasks(bambari)
    if capacity:
        body["capacity_overrides"] = capacity(bambari)
    before = writes(conn)
    r = await client.post("/api/v1/patrol-plans", json=body, headers=auth("operations"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert any(e["pointer"] == pointer for e in r.json()["errors"]), r.json()
    assert writes(conn) == before


async def test_a_plan_with_patrol_reports_is_not_replaced(client, auth, conn):
    bambari, _ = await seed(client, auth)
    saved = await client.post("/api/v1/patrol-plans", json={**PLAN, "save": True}, headers=auth("operations"))
    plan = saved.json()
    r = await client.post(f"/api/v1/patrol-plans/{plan['id']}/tasks/{plan['tasks'][0]['id']}/report",
                          headers=auth("operations"), json={"status": "not_done", "reason": "road cut"})
    assert r.status_code == 201
    before = writes(conn)
    r = await client.post("/api/v1/patrol-plans", headers=auth("operations"), json={
        **PLAN, "save": True, "supersedes": plan["id"], "tasks": _choices(plan["tasks"][1:])})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["pointer"] == "/body/supersedes"
    assert writes(conn) == before
    current = (await client.get(f"/api/v1/patrol-plans/{plan['id']}", headers=auth("analyst"))).json()
    assert current["superseded_by"] is None and len(current["tasks"]) == len(plan["tasks"])
