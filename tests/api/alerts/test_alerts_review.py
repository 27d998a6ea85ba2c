"""Operations staff confirm, merge or dismiss alerts; every change is audited."""

from __future__ import annotations

from tests.conftest import incident_body
from tests.support.alerts import alert_doc, make_integration, post_alert


async def _alert(client, auth, **over):
    integ = await make_integration(client, auth, name=over.pop("name", "can"))
    r = await post_alert(client, integ, alert_doc(**over))
    return r.json()["id"]


def _audit(conn, alert_id):
    return [
        r[0]
        for r in conn.execute(
            "SELECT action FROM audit_event WHERE object_type = 'alert' AND object_id = %s ORDER BY id",
            (alert_id,),
        ).fetchall()
    ]


async def test_list_filters_by_status(client, auth):
    await _alert(client, auth)
    ops = auth("operations")
    assert len((await client.get("/api/v1/alerts?status=new", headers=ops)).json()["items"]) == 1
    assert (await client.get("/api/v1/alerts?status=linked", headers=ops)).json()["items"] == []
    assert (await client.get("/api/v1/alerts?status=bogus", headers=ops)).status_code == 422
    assert (await client.get("/api/v1/alerts", headers=auth("partner"))).status_code == 403


async def test_confirm_a_new_alert(client, auth, conn):
    alert_id = await _alert(client, auth)
    r = await client.post(
        f"/api/v1/alerts/{alert_id}/confirm",
        json={"comment": "called back"},
        headers=auth("operations"),
    )
    assert r.status_code == 200 and r.json()["status"] == "linked"
    assert _audit(conn, alert_id) == ["confirm"]
    again = await client.post(f"/api/v1/alerts/{alert_id}/confirm", headers=auth("operations"))
    assert again.status_code == 409


async def test_confirm_locates_an_unresolved_alert(client, auth, conn):
    alert_id = await _alert(client, auth, latitude=None, longitude=None, place="Kpokpo-ngba")
    r = await client.post(f"/api/v1/alerts/{alert_id}/confirm", json={}, headers=auth("operations"))
    assert r.status_code == 422
    r = await client.post(
        f"/api/v1/alerts/{alert_id}/confirm", json={"place": "Bria"}, headers=auth("operations")
    )
    body = r.json()
    assert r.status_code == 200 and body["needs_location"] is False and body["incident_id"]
    assert conn.execute("SELECT count(*) FROM incident").fetchone()[0] == 1


async def test_merge_moves_the_report_and_rejects_the_opened_incident(client, auth, conn):
    r = await client.post(
        "/api/v1/incidents",
        json=incident_body(latitude=6.0, longitude=20.0),
        headers=auth("analyst"),
    )
    target = r.json()["id"]
    alert_id = await _alert(client, auth)  # far away: opens its own incident
    opened = conn.execute("SELECT incident_id FROM alert").fetchone()[0]
    r = await client.post(
        f"/api/v1/alerts/{alert_id}/merge", json={"incident_id": target}, headers=auth("operations")
    )
    assert r.status_code == 200 and r.json()["incident_id"] == target
    rows = dict(conn.execute("SELECT id::text, status FROM incident").fetchall())
    assert rows == {target: "entered", str(opened): "rejected"}
    assert (
        conn.execute("SELECT independent_sources FROM incident WHERE id = %s", (target,)).fetchone()[0] == 2
    )
    assert _audit(conn, alert_id) == ["merge"]
    missing = "00000000-0000-0000-0000-000000000000"
    r = await client.post(
        f"/api/v1/alerts/{alert_id}/merge",
        json={"incident_id": missing},
        headers=auth("operations"),
    )
    assert r.status_code == 404


async def test_dismiss_rejects_the_incident_it_opened(client, auth, conn):
    alert_id = await _alert(client, auth)
    r = await client.post(
        f"/api/v1/alerts/{alert_id}/dismiss", json={"reason": "prank"}, headers=auth("operations")
    )
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    assert conn.execute("SELECT status FROM incident").fetchone()[0] == "rejected"
    assert _audit(conn, alert_id) == ["dismiss"]
    r = await client.post(
        f"/api/v1/alerts/{alert_id}/dismiss", json={"reason": "again"}, headers=auth("operations")
    )
    assert r.status_code == 409
    r = await client.post(f"/api/v1/alerts/{alert_id}/dismiss", json={}, headers=auth("operations"))
    assert r.status_code == 422
