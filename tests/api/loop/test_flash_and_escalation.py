"""Warnings from people: a duty officer's flash warning and the escalation of one alert or
incident. Each gets an owner (the nearest active base that can send someone) and deadlines from
its urgency; bad requests are refused with a pointer and write nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.services.planning.reach import haversine_km
from tests.conftest import incident_body
from tests.support.alerts import alert_doc, make_integration, post_alert
from tests.support.loop import flash_body, make_base, warning_count, writes


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


async def test_a_flash_warning_is_owned_by_the_nearest_base_that_can_send_someone(client, auth, conn):
    near_but_empty = await make_base(client, auth, name="Observer post", latitude=5.79,
                                     longitude=20.69, road_patrols_per_day=0, foot_patrols_per_day=0,
                                     qrf_standby=0, troops=10)
    closed = await make_base(client, auth, name="Closed TOB", latitude=5.805, longitude=20.705,
                             closed_on="2015-01-01")
    owner = await make_base(client, auth, name="Bambari COB")
    await make_base(client, auth, name="Far COB", latitude=7.0, longitude=22.0)
    r = await client.post("/api/v1/warnings", json=flash_body(), headers=auth("operations"))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["assigned_to"] == "Bambari COB"
    assert {near_but_empty["id"], closed["id"]}.isdisjoint({out["warning"]["properties"]["owner_id"]})
    assert out["warning"]["properties"]["owner_id"] == owner["id"]
    p = out["warning"]["properties"]
    created = _t(p["created_at"])
    # Immediate: acknowledge within the quick reaction force's 15 minutes ...
    assert _t(out["acknowledge_by"]) - created == timedelta(minutes=15)
    # ... and be on scene within the notice plus the road trip (the fastest mode here).
    km = float(haversine_km(5.76, 20.67, 5.80, 20.70))
    assert p["owner_mode"] == "road"
    travel = km * 1.4 / 25 * 60 * (0.6 if created.month in (5, 6, 7, 8, 9, 10) else 1) ** -1
    assert abs((_t(out["on_scene_by"]) - created).total_seconds() / 60 - (15 + travel)) < 0.5
    assert p["source"] == "flash" and p["rule"] == "flash" and p["status"] == "active"
    assert p["overdue"] is False
    got = (await client.get(f"/api/v1/warnings/{out['id']}", headers=auth("analyst"))).json()
    assert got["properties"]["assigned_to"] == "Bambari COB"


async def test_urgency_sets_the_deadlines(client, auth):
    await make_base(client, auth)
    r = await client.post("/api/v1/warnings", json=flash_body(urgency="Expected"),
                          headers=auth("analyst"))
    p = r.json()["warning"]["properties"]
    assert _t(p["acknowledge_by"]) - _t(p["created_at"]) == timedelta(minutes=60)
    r = await client.post("/api/v1/warnings", json=flash_body(urgency="Past"), headers=auth("analyst"))
    p = r.json()["warning"]["properties"]
    assert p["on_scene_by"] is None and p["acknowledge_by"] is not None


async def test_a_flash_warning_by_place_or_area_and_without_any_base(client, auth):
    r = await client.post("/api/v1/warnings", json=flash_body(latitude=None, longitude=None,
                                                               place="Bambari"),
                          headers=auth("operations"))
    assert r.status_code == 201, r.text
    w = r.json()["warning"]
    assert r.json()["assigned_to"] is None and w["properties"]["on_scene_by"] is None
    assert r.json()["acknowledge_by"] is not None
    lon, lat = w["geometry"]["coordinates"][0][0]
    assert abs(lat - 5.76) < 0.2 and abs(lon - 20.67) < 0.2
    area = {"type": "Polygon", "coordinates": [[[20.6, 5.7], [20.8, 5.7], [20.8, 5.9], [20.6, 5.9],
                                                 [20.6, 5.7]]]}
    r = await client.post("/api/v1/warnings", json=flash_body(latitude=None, longitude=None, area=area),
                          headers=auth("operations"))
    assert r.status_code == 201 and r.json()["warning"]["geometry"] == area


BAD = [
    (flash_body(latitude=None, longitude=None), "/body/place"),
    (flash_body(latitude=None, longitude=None, place="Nowhereville Zzyzx"), "/body/place"),
    (flash_body(severity="Catastrophic"), "/body/severity"),
    (flash_body(urgency="Now"), "/body/urgency"),
    (flash_body(latitude=95), "/body/latitude"),
    (flash_body(latitude=None), "/body"),
    (flash_body(headline=""), "/body/headline"),
    (flash_body(alert_ids=["7d3c1c52-0000-4000-8000-000000000001"]), "/body/alert_ids/0"),
    (flash_body(incident_ids=["7d3c1c52-0000-4000-8000-000000000001"]), "/body/incident_ids/0"),
    (flash_body(expires_at="2001-01-01T00:00:00Z"), "/body/expires_at"),
    (flash_body(latitude=None, longitude=None, area={"type": "Polygon", "coordinates": [
        [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}), "/body/area"),
    (flash_body(latitude=None, longitude=None, area={"type": "Point", "coordinates": [1, 1]}),
     "/body/area"),
    ({**flash_body(), "priority": 1}, "/body/priority"),
]


@pytest.mark.parametrize("body,pointer", BAD, ids=[p for _, p in BAD])
async def test_bad_flash_warnings_are_refused_and_write_nothing(client, auth, conn, body, pointer):
    await make_base(client, auth)
    before = writes(conn)
    r = await client.post("/api/v1/warnings", json=body, headers=auth("operations"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert any(e["pointer"] == pointer for e in r.json()["errors"]), r.json()
    assert writes(conn) == before


@pytest.mark.parametrize("role", ["partner", "integration"])
async def test_only_staff_issue_flash_warnings(client, auth, conn, role):
    r = await client.post("/api/v1/warnings", json=flash_body(), headers=auth(role))
    assert r.status_code == 403 and warning_count(conn) == 0


async def test_one_alert_no_rule_picks_up_can_be_escalated_once(client, auth, conn):
    await make_base(client, auth, latitude=4.40, longitude=18.55, name="Bangui HQ")
    integ = await make_integration(client, auth)
    r = await post_alert(client, integ, alert_doc(text="Armed men threatened traders"))
    alert_id = r.json()["id"]
    assert warning_count(conn) == 0  # one threat alert: no rule fires
    r = await client.post(f"/api/v1/alerts/{alert_id}/escalate", headers=auth("operations"))
    assert r.status_code == 201, r.text
    p = r.json()["warning"]["properties"]
    assert r.json()["id"] and p["source"] == "escalation" and p["alert_ids"] == [alert_id]
    incident = (await client.get(f"/api/v1/alerts/{alert_id}", headers=auth("analyst"))).json()["incident_id"]
    assert p["incident_ids"] == [incident]
    assert (p["severity"], p["urgency"], p["certainty"]) == ("Moderate", "Immediate", "Possible")
    assert r.json()["assigned_to"] == "Bangui HQ"
    before = writes(conn)
    again = await client.post(f"/api/v1/alerts/{alert_id}/escalate", headers=auth("operations"))
    assert again.status_code == 409 and again.json()["errors"][0]["pointer"] == "/path/alert_id"
    assert writes(conn) == before


async def test_a_dismissed_or_unlocated_alert_cannot_be_escalated(client, auth, conn):
    integ = await make_integration(client, auth)
    dismissed = (await post_alert(client, integ, alert_doc())).json()["id"]
    await client.post(f"/api/v1/alerts/{dismissed}/dismiss", json={"reason": "prank"},
                      headers=auth("analyst"))
    unlocated = (await post_alert(client, integ, alert_doc(latitude=None, longitude=None,
                                                           text="Trouble somewhere"))).json()["id"]
    before = writes(conn)
    for alert_id in (dismissed, unlocated):
        r = await client.post(f"/api/v1/alerts/{alert_id}/escalate", headers=auth("operations"))
        assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["pointer"] == "/path/alert_id"
    assert writes(conn) == before
    r = await client.post(f"/api/v1/alerts/{dismissed}/escalate", json={"severity": "Huge"},
                          headers=auth("operations"))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/severity"


async def test_an_incident_can_be_escalated_unless_rejected(client, auth, conn):
    iid = (await client.post("/api/v1/incidents", json=incident_body(), headers=auth("analyst"))).json()["id"]
    r = await client.post(f"/api/v1/incidents/{iid}/escalate", json={"urgency": "Expected"},
                          headers=auth("analyst"))
    assert r.status_code == 201, r.text
    p = r.json()["warning"]["properties"]
    assert p["incident_ids"] == [iid] and p["urgency"] == "Expected" and p["severity"] == "Severe"
    other = incident_body(occurred_start="2024-02-01T08:00:00Z", latitude=5.2, longitude=19.4)
    rejected = (await client.post("/api/v1/incidents", json=other, headers=auth("analyst"))).json()["id"]
    await client.post(f"/api/v1/incidents/{rejected}/reject", headers=auth("analyst"))
    before = writes(conn)
    r = await client.post(f"/api/v1/incidents/{rejected}/escalate", headers=auth("analyst"))
    assert r.status_code == 409 and writes(conn) == before
