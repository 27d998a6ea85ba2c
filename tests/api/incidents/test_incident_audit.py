"""An incident's audit trail (GET /api/v1/incidents/{id}/audit): what the incident page shows."""

import uuid

from tests.conftest import incident_body


async def _create(client, auth, **over):
    r = await client.post("/api/v1/incidents", json=incident_body(**over), headers=auth("analyst"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_the_trail_lists_every_change_oldest_first_with_who_and_what(client, auth):
    iid = await _create(client, auth)
    await client.patch(f"/api/v1/incidents/{iid}", json={"injured": 4}, headers=auth("analyst"))
    await client.post(f"/api/v1/incidents/{iid}/validate", headers=auth("analyst"))
    await client.post(f"/api/v1/incidents/{iid}/approve", headers=auth("admin"))
    r = await client.get(f"/api/v1/incidents/{iid}/audit", headers=auth("analyst"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["incident_id"] == iid and body["status"] == "approved" and body["next"] is None
    items = body["items"]
    assert [i["action"] for i in items] == ["create", "update", "validated", "approved"]
    assert [i["actor"] for i in items] == ["analyst:test-analyst"] * 3 + ["admin:test-admin"]
    assert items[1]["after"]["injured"] == 4
    assert [i["id"] for i in items] == sorted(i["id"] for i in items)
    assert all(i["at"] for i in items)


async def test_a_merge_shows_on_both_incidents_trails(client, auth):
    target = await _create(client, auth)
    other = await _create(client, auth, latitude=6.0, longitude=20.0)
    r = await client.post(f"/api/v1/incidents/{other}/merge", json={"into": target},
                          headers=auth("analyst"))
    assert r.status_code == 200, r.text
    merged = (await client.get(f"/api/v1/incidents/{other}/audit", headers=auth("admin"))).json()
    assert merged["status"] == "merged" and merged["merged_into"] == target
    assert merged["items"][-1]["action"] == "merge"
    assert merged["items"][-1]["after"]["into"] == target
    kept = (await client.get(f"/api/v1/incidents/{target}/audit", headers=auth("admin"))).json()
    assert kept["items"][-1]["action"] == "merge_into"
    assert kept["items"][-1]["after"]["merged"] == other


async def test_the_trail_pages_with_a_cursor(client, auth):
    iid = await _create(client, auth)
    for n in range(3):
        await client.patch(f"/api/v1/incidents/{iid}", json={"injured": n + 1},
                           headers=auth("analyst"))
    first = (await client.get(f"/api/v1/incidents/{iid}/audit?limit=3",
                              headers=auth("analyst"))).json()
    assert len(first["items"]) == 3 and first["next"]
    rest = (await client.get(first["next"], headers=auth("analyst"))).json()
    assert [i["after"]["injured"] for i in rest["items"]] == [3] and rest["next"] is None


async def test_an_unknown_incident_is_a_problem_404(client, auth):
    r = await client.get(f"/api/v1/incidents/{uuid.uuid4()}/audit", headers=auth("analyst"))
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "urn:kinga:problem:not-found"


async def test_a_bad_id_cursor_or_limit_is_refused(client, auth, conn):
    iid = await _create(client, auth)
    before = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    for path in ("/api/v1/incidents/not-a-uuid/audit", f"/api/v1/incidents/{iid}/audit?cursor=abc",
                 f"/api/v1/incidents/{iid}/audit?limit=0"):
        r = await client.get(path, headers=auth("analyst"))
        assert r.status_code == 422, path
        assert r.headers["content-type"] == "application/problem+json"
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone()[0] == before


async def test_operations_and_partners_may_not_read_it(client, auth):
    iid = await _create(client, auth)
    for role in ("operations", "partner"):
        r = await client.get(f"/api/v1/incidents/{iid}/audit", headers=auth(role))
        assert r.status_code == 403 and r.json()["type"] == "urn:kinga:problem:forbidden"
