"""Patrol de-confliction between offices: when a saved plan is approved and another approved
plan of the same days tasks the same cells from another office, the approval and the plan list
the overlaps (cells, the other plan, both offices). Nothing is blocked."""

from __future__ import annotations

from tests.api.planning.test_patrols_api import PLAN, seed
from tests.support.aors import box

MISSION = {"code": "unx", "name": "UN Example", "area": box(18, 3, 23, 8),
           "timezone": "Africa/Bangui", "languages": ["en"], "aor_overlap": "allow"}
# Two field offices whose areas share Bambari (and its base): both may plan patrols there.
AORS = [{"name": "FO One", "kind": "field_office", "area": box(20, 5, 21, 8)},
        {"name": "FO Three", "kind": "field_office", "area": box(20.5, 5, 21.5, 8)}]


async def _world(client, auth):
    assert (await client.post("/api/v1/missions", json=MISSION, headers=auth("admin"))).status_code == 201
    r = await client.post("/api/v1/missions/unx/aors", json={"aors": AORS}, headers=auth("admin"))
    assert r.status_code == 201, r.text
    await seed(client, auth)


async def _saved(client, auth, aor, **over):
    r = await client.post("/api/v1/patrol-plans", headers=auth("operations"),
                          json={**PLAN, "mission": "unx", "aor": aor, "save": True, **over})
    assert r.status_code == 201, r.text
    assert r.json()["tasks"], r.json()
    return r.json()


async def _approve(client, auth, plan_id):
    r = await client.post(f"/api/v1/patrol-plans/{plan_id}/approve", headers=auth("operations"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_approval_lists_another_offices_plan_on_the_same_cells_and_days(client, auth):
    await _world(client, auth)
    one = await _saved(client, auth, "FO One")
    assert (await _approve(client, auth, one["id"]))["overlaps"] == []  # nobody else yet
    three = await _saved(client, auth, "FO Three")
    approved = await _approve(client, auth, three["id"])  # not blocked
    assert approved["approved_by"] and approved["overlaps"]
    from app.schemas.patrols import SavedPatrolPlan  # the answer is the documented shape

    SavedPatrolPlan.model_validate(approved)
    mine = {c for t in three["tasks"] for c in t["cell_ids"]}
    theirs = {c for t in one["tasks"] for c in t["cell_ids"]}
    for o in approved["overlaps"]:
        assert o["other_plan_id"] == one["id"]
        assert (o["office"]["name"], o["other_office"]["name"]) == ("FO Three", "FO One")
        assert set(o["cells"]) <= mine & theirs and o["cells"]
        assert o["days"] == {"from": one["starts_on"], "to": one["ends_on"]}
    assert {c for o in approved["overlaps"] for c in o["cells"]} == mine & theirs
    # the other office sees it too, on its own plan
    got = (await client.get(f"/api/v1/patrol-plans/{one['id']}", headers=auth("analyst"))).json()
    assert {o["other_plan_id"] for o in got["overlaps"]} == {three["id"]}
    assert got["overlaps"][0]["office"]["name"] == "FO One"


async def test_no_overlap_with_the_same_office_other_days_or_unapproved_plans(client, auth):
    await _world(client, auth)
    one = await _saved(client, auth, "FO One")
    await _approve(client, auth, one["id"])
    unapproved = await _saved(client, auth, "FO Three")
    same_office = await _saved(client, auth, "FO One")
    later = await _saved(client, auth, "FO Three", as_of="2024-03-20")  # a later week
    assert (await _approve(client, auth, same_office["id"]))["overlaps"] == []
    assert (await _approve(client, auth, later["id"]))["overlaps"] == []
    got = (await client.get(f"/api/v1/patrol-plans/{one['id']}", headers=auth("analyst"))).json()
    assert got["overlaps"] == []  # the FO Three plan of those days is not approved
    # an unapproved plan shows what approving it would overlap
    got = (await client.get(f"/api/v1/patrol-plans/{unapproved['id']}", headers=auth("analyst"))).json()
    assert {o["other_plan_id"] for o in got["overlaps"]} == {one["id"], same_office["id"]}
