"""Patrol plans and reports as records: a saved plan is kept with its parameters and the data
version of the threat layer it used, versioned, and its tasks take one report each (reason unless
done); execution rates by base and week follow. Bad reports are refused and write nothing."""

from __future__ import annotations

import pytest

from tests.api.planning.test_patrols_api import PLAN, seed
from tests.conftest import incident_body
from tests.support.loop import writes


async def _saved(client, auth, **over):
    r = await client.post("/api/v1/patrol-plans", json={**PLAN, "save": True, **over},
                          headers=auth("operations"))
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_saved_plan_is_a_record_its_tasks_take_reports_and_execution_follows(client, auth, conn):
    await seed(client, auth)
    unsaved = await client.post("/api/v1/patrol-plans", json=PLAN, headers=auth("operations"))
    assert unsaved.status_code == 200 and "id" not in unsaved.json()
    assert conn.execute("SELECT count(*) FROM patrol_plan").fetchone()[0] == 0
    plan = await _saved(client, auth)
    version = conn.execute("SELECT version FROM data_version").fetchone()[0]
    assert plan["version"] == 1 and plan["layer_version"] == version
    assert plan["parameters"]["as_of"] == PLAN["as_of"] and plan["parameters"]["horizon_days"] == 7
    assert [t["id"] for t in plan["tasks"]] == [t["id"] for t in unsaved.json()["tasks"]]
    assert all(t["report"] is None for t in plan["tasks"])
    first, *rest = plan["tasks"]
    url = f"/api/v1/patrol-plans/{plan['id']}/tasks/{first['id']}/report"
    r = await client.post(url, headers=auth("operations"), json={
        "status": "done", "started_at": "2024-03-11T18:00:00Z", "ended_at": "2024-03-11T23:30:00Z",
        "observations": "Night patrol; market calm", "civilians_engaged": 40})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "done" and r.json()["task_id"] == first["id"]
    got = (await client.get(f"/api/v1/patrol-plans/{plan['id']}", headers=auth("analyst"))).json()
    reports = {t["id"]: t["report"] for t in got["tasks"]}
    assert reports[first["id"]]["status"] == "done" and reports[first["id"]]["civilians_engaged"] == 40
    assert all(reports[t["id"]] is None for t in rest)
    if rest:
        r = await client.post(f"/api/v1/patrol-plans/{plan['id']}/tasks/{rest[0]['id']}/report",
                              headers=auth("operations"),
                              json={"status": "not_done", "reason": "road flooded"})
        assert r.status_code == 201, r.text
    ex = (await client.get("/api/v1/patrol-execution?by=base_week", headers=auth("operations"))).json()
    total = ex["total"]
    assert total["planned"] == len(plan["tasks"]) and total["done"] == 1
    assert total["not_done"] == (1 if rest else 0)
    assert total["execution_rate"] == round(1 / len(plan["tasks"]), 4)
    assert {g["week"] for g in ex["groups"]} == {"2024-03-11"}  # the plan starts on Monday 11 March
    assert sum(g["planned"] for g in ex["groups"]) == total["planned"]


async def test_a_new_version_supersedes_the_old_one(client, auth, conn):
    await seed(client, auth)
    v1 = await _saved(client, auth)
    v2 = await _saved(client, auth, supersedes=v1["id"], horizon_days=14)
    assert v2["version"] == 2 and v2["series_id"] == v1["series_id"]
    old = (await client.get(f"/api/v1/patrol-plans/{v1['id']}", headers=auth("analyst"))).json()
    assert old["superseded_by"] == v2["id"]
    listed = (await client.get("/api/v1/patrol-plans", headers=auth("analyst"))).json()["items"]
    assert [str(p["id"]) for p in listed] == [v2["id"]]
    before = writes(conn)
    r = await client.post("/api/v1/patrol-plans", json={**PLAN, "save": True, "supersedes": v1["id"]},
                          headers=auth("operations"))
    assert r.status_code == 409 and r.json()["errors"][0]["pointer"] == "/body/supersedes"
    assert writes(conn) == before
    r = await client.post(f"/api/v1/patrol-plans/{v2['id']}/approve", headers=auth("operations"))
    assert r.status_code == 200 and r.json()["approved_by"].startswith("operations:")
    assert (await client.post(f"/api/v1/patrol-plans/{v2['id']}/approve",
                              headers=auth("analyst"))).status_code == 403


BAD = [
    ({"status": "partly", "started_at": "2024-03-11T18:00:00Z"}, "/body/reason", 422),
    ({"status": "not_done"}, "/body/reason", 422),
    ({"status": "done"}, "/body/started_at", 422),
    ({"status": "skipped", "reason": "x"}, "/body/status", 422),
    ({"status": "done", "started_at": "2024-03-11T18:00:00Z", "ended_at": "2024-03-11T17:00:00Z"},
     "/body/ended_at", 422),
    ({"status": "done", "started_at": "2024-01-01T18:00:00Z"}, "/body/started_at", 422),
    ({"status": "done", "started_at": "2099-01-01T18:00:00Z"}, "/body/started_at", 422),
    ({"status": "done", "started_at": "2024-03-11T18:00:00Z", "civilians_engaged": -3},
     "/body/civilians_engaged", 422),
    ({"status": "done", "started_at": "2024-03-11T18:00:00Z",
      "incident_ids": ["7d3c1c52-0000-4000-8000-000000000001"]}, "/body/incident_ids/0", 422),
]


@pytest.mark.parametrize("body,pointer,status", BAD, ids=[f"{p} {b['status']}" for b, p, _ in BAD])
async def test_bad_patrol_reports_are_refused_and_write_nothing(client, auth, conn, body, pointer, status):
    await seed(client, auth)
    plan = await _saved(client, auth)
    before = writes(conn)
    r = await client.post(f"/api/v1/patrol-plans/{plan['id']}/tasks/{plan['tasks'][0]['id']}/report",
                          json=body, headers=auth("operations"))
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json"
    assert any(e["pointer"] == pointer for e in r.json()["errors"]), r.json()
    assert writes(conn) == before


async def test_reports_for_unsaved_plans_unknown_tasks_or_twice_are_refused(client, auth, conn):
    await seed(client, auth)
    unsaved = (await client.post("/api/v1/patrol-plans", json=PLAN, headers=auth("operations"))).json()
    plan = await _saved(client, auth)
    done = {"status": "done", "started_at": "2024-03-11T18:00:00Z"}
    before = writes(conn)
    # An unsaved plan has no id: whatever id a client tries names no saved plan.
    r = await client.post(f"/api/v1/patrol-plans/{unsaved['summary'].get('id', plan['series_id'])}"
                          f"/tasks/{unsaved['tasks'][0]['id']}/report", json=done, headers=auth("operations"))
    assert r.status_code == 404 and r.json()["errors"][0]["pointer"] == "/path/plan_id"
    r = await client.post(f"/api/v1/patrol-plans/{plan['id']}/tasks/T999/report", json=done,
                          headers=auth("operations"))
    assert r.status_code == 404 and r.json()["errors"][0]["pointer"] == "/path/task_id"
    assert writes(conn) == before
    url = f"/api/v1/patrol-plans/{plan['id']}/tasks/{plan['tasks'][0]['id']}/report"
    assert (await client.post(url, json=done, headers=auth("operations"))).status_code == 201
    before = writes(conn)
    r = await client.post(url, json={**done, "observations": "again"}, headers=auth("operations"))
    assert r.status_code == 409 and r.json()["errors"][0]["pointer"] == "/path/task_id"
    assert writes(conn) == before
    for role in ("partner", "integration"):
        assert (await client.post(url, json=done, headers=auth(role))).status_code == 403


async def test_a_report_links_the_incidents_the_patrol_found(client, auth):
    await seed(client, auth)
    plan = await _saved(client, auth)
    found = (await client.post("/api/v1/incidents", json=incident_body(occurred_start="2024-03-11T20:00:00Z"),
                               headers=auth("analyst"))).json()["id"]
    r = await client.post(f"/api/v1/patrol-plans/{plan['id']}/tasks/{plan['tasks'][0]['id']}/report",
                          json={"status": "partly", "started_at": "2024-03-11T18:00:00Z",
                                "reason": "turned back at the river", "incident_ids": [found]},
                          headers=auth("operations"))
    assert r.status_code == 201 and r.json()["incident_ids"] == [found]


async def test_the_weekly_brief_reports_patrol_execution_from_saved_plans(client, auth):
    await seed(client, auth)
    plan = await _saved(client, auth)
    first = plan["tasks"][0]
    r = await client.post(f"/api/v1/patrol-plans/{plan['id']}/tasks/{first['id']}/report",
                          headers=auth("operations"), json={"status": "done",
                                                            "started_at": "2024-03-11T18:00:00Z"})
    assert r.status_code == 201
    doc = (await client.get("/api/v1/briefs", params={"period": "week", "as_of": "2024-03-13"},
                            headers=auth("analyst"))).json()
    [section] = [s for s in doc["content"]["sections"] if s["id"] == "patrols"]
    said = section["statements"][0]["text"]
    n = len(plan["tasks"])
    assert said.startswith(f"Of {n} planned patrol task") and "1 were done" in said
    assert f"{n - 1} unreported" in said
