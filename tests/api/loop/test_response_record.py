"""The response record: steps (acknowledged, dispatched, on scene, completed) with unit, mode,
people, delay reasons, an outcome from the vocabulary and the incidents found; a warning ends
closed with an outcome or cancelled with a reason. Out-of-order or impossible steps are refused
with a pointer and write nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import incident_body
from tests.support.loop import flash_body, make_base, writes


async def _warning(client, auth, conn, minutes_ago=60):
    await make_base(client, auth)
    wid = (await client.post("/api/v1/warnings", json=flash_body(), headers=auth("operations"))).json()["id"]
    created = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    conn.execute("UPDATE warning SET created_at = %s WHERE id = %s", (created, wid))
    conn.commit()
    return wid, created


def _iso(t0, minutes):
    return (t0 + timedelta(minutes=minutes)).isoformat()


async def test_a_response_is_recorded_step_by_step_and_the_warning_closed_with_its_outcome(client, auth, conn):
    wid, t0 = await _warning(client, auth, conn)
    found = (await client.post("/api/v1/incidents", json=incident_body(), headers=auth("analyst"))).json()["id"]
    ops = auth("operations")
    r = await client.post(f"/api/v1/warnings/{wid}/responses", headers=ops, json={
        "type": "quick_reaction_force", "unit": "QRF Coy A", "mode": "road", "people": 24,
        "acknowledged_at": _iso(t0, 5), "dispatched_at": _iso(t0, 12)})
    assert r.status_code == 201, r.text
    resp = r.json()
    assert resp["warning_status"] == "responded" and resp["people"] == 24 and resp["mode"] == "road"
    r = await client.patch(f"/api/v1/warnings/{wid}/responses/{resp['id']}", headers=ops, json={
        "on_scene_at": _iso(t0, 50), "delay_reasons": ["road_or_access_denied"]})
    assert r.status_code == 200, r.text
    r = await client.patch(f"/api/v1/warnings/{wid}/responses/{resp['id']}", headers=ops, json={
        "completed_at": _iso(t0, 55), "outcome": "incident_found_reported", "incident_ids": [found],
        "outcome_note": "Two houses burnt; civilians had fled"})
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "incident_found_reported" and r.json()["incident_ids"] == [found]
    w = (await client.get(f"/api/v1/warnings/{wid}", headers=ops)).json()["properties"]
    assert w["acknowledged_at"].startswith(_iso(t0, 5)[:16])
    assert w["dispatched_at"].startswith(_iso(t0, 12)[:16]) and w["on_scene_at"].startswith(_iso(t0, 50)[:16])
    [rec] = w["responses"]
    assert rec["delay_reasons"] == ["road_or_access_denied"] and rec["unit"] == "QRF Coy A"
    r = await client.post(f"/api/v1/warnings/{wid}/status", headers=ops,
                          json={"status": "closed", "outcome": "incident_found_reported"})
    assert r.status_code == 200 and r.json()["properties"]["status"] == "closed"
    assert r.json()["properties"]["outcome"] == "incident_found_reported"


async def test_cancelling_needs_a_reason_and_closing_an_outcome(client, auth, conn):
    wid, _ = await _warning(client, auth, conn)
    ops = auth("operations")
    before = writes(conn)
    r = await client.post(f"/api/v1/warnings/{wid}/status", headers=ops, json={"status": "cancelled"})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/reason"
    await client.post(f"/api/v1/warnings/{wid}/status", headers=ops, json={"status": "acknowledged"})
    before = writes(conn)
    r = await client.post(f"/api/v1/warnings/{wid}/status", headers=ops, json={"status": "closed"})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/outcome"
    r = await client.post(f"/api/v1/warnings/{wid}/status", headers=ops,
                          json={"status": "closed", "outcome": "eaten_by_goats"})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/outcome"
    assert writes(conn) == before
    r = await client.post(f"/api/v1/warnings/{wid}/status", headers=ops,
                          json={"status": "cancelled", "reason": "raised twice for one event"})
    assert r.status_code == 200 and r.json()["properties"]["cancel_reason"] == "raised twice for one event"


async def test_acknowledging_a_closed_warning_is_refused(client, auth, conn):
    wid, _ = await _warning(client, auth, conn)
    ops = auth("operations")
    await client.post(f"/api/v1/warnings/{wid}/status", headers=ops, json={"status": "acknowledged"})
    await client.post(f"/api/v1/warnings/{wid}/status", headers=ops,
                      json={"status": "closed", "outcome": "false_alarm"})
    before = writes(conn)
    r = await client.post(f"/api/v1/warnings/{wid}/status", headers=ops, json={"status": "acknowledged"})
    assert r.status_code == 409 and r.json()["errors"][0]["pointer"] == "/body/status"
    r = await client.post(f"/api/v1/warnings/{wid}/responses", headers=ops, json={"type": "patrol"})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert writes(conn) == before


BAD_CREATE = [
    ({"type": "patrol", "dispatched_at": "-30"}, "/body/dispatched_at", 422),      # before the warning
    ({"type": "patrol", "acknowledged_at": "20", "dispatched_at": "10"}, "/body/dispatched_at", 422),
    ({"type": "patrol", "dispatched_at": "10", "on_scene_at": "5"}, "/body/on_scene_at", 422),
    ({"type": "patrol", "on_scene_at": "10"}, "/body/on_scene_at", 422),           # no dispatch
    ({"type": "patrol", "dispatched_at": "+30"}, "/body/dispatched_at", 422),      # the future
    ({"type": "patrol", "dispatched_at": "10", "completed_at": "20"}, "/body/outcome", 422),
    ({"type": "patrol", "outcome": "victory"}, "/body/outcome", 422),
    ({"type": "patrol", "mode": "boat"}, "/body/mode", 422),
    ({"type": "patrol", "people": -1}, "/body/people", 422),
    ({"type": "patrol", "delay_reasons": ["bad_luck"]}, "/body/delay_reasons/0", 422),
    ({"type": "patrol", "incident_ids": ["7d3c1c52-0000-4000-8000-000000000001"]}, "/body/incident_ids/0", 422),
]


def _times(body, t0):
    out = dict(body)
    for k, v in body.items():
        if k.endswith("_at"):
            out[k] = (datetime.now(UTC) + timedelta(minutes=int(v[1:]))).isoformat() \
                if v.startswith("+") else _iso(t0, int(v))
    return out


@pytest.mark.parametrize("body,pointer,status", BAD_CREATE, ids=[f"{p} {b}" for b, p, _ in BAD_CREATE])
async def test_bad_response_steps_are_refused_and_write_nothing(client, auth, conn, body, pointer, status):
    wid, t0 = await _warning(client, auth, conn)
    before = writes(conn)
    r = await client.post(f"/api/v1/warnings/{wid}/responses", json={**_times(body, t0)},
                          headers=auth("operations"))
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json"
    assert any(e["pointer"] == pointer for e in r.json()["errors"]), r.json()
    assert writes(conn) == before


async def test_later_steps_out_of_order_or_changed_are_refused(client, auth, conn):
    wid, t0 = await _warning(client, auth, conn)
    ops = auth("operations")
    rid = (await client.post(f"/api/v1/warnings/{wid}/responses", headers=ops, json={
        "type": "patrol", "acknowledged_at": _iso(t0, 5), "dispatched_at": _iso(t0, 20)})).json()["id"]
    url = f"/api/v1/warnings/{wid}/responses/{rid}"
    before = writes(conn)
    r = await client.patch(url, headers=ops, json={"on_scene_at": _iso(t0, 15)})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/on_scene_at"
    r = await client.patch(url, headers=ops, json={"dispatched_at": _iso(t0, 25)})
    assert r.status_code == 409 and r.json()["errors"][0]["pointer"] == "/body/dispatched_at"
    r = await client.patch(url, headers=ops, json={"outcome": "sideways"})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/outcome"
    r = await client.patch(f"/api/v1/warnings/{wid}/responses/7d3c1c52-0000-4000-8000-000000000001",
                           headers=ops, json={"on_scene_at": _iso(t0, 30)})
    assert r.status_code == 404
    assert writes(conn) == before
    r = await client.patch(url, headers=ops, json={"outcome": "deterred"})  # completes it now
    assert r.status_code == 200 and r.json()["completed_at"] is not None
    r = await client.patch(url, headers=ops, json={"outcome": "nothing_found"})
    assert r.status_code == 409


async def test_partners_and_integrations_record_nothing(client, auth, conn):
    wid, _ = await _warning(client, auth, conn)
    before = writes(conn)
    for role in ("partner", "integration"):
        r = await client.post(f"/api/v1/warnings/{wid}/responses", json={"type": "patrol"},
                              headers=auth(role))
        assert r.status_code == 403
    assert writes(conn) == before


async def test_partners_read_sanitised_warnings_only_where_the_mission_shares_them(
        client, auth, conn, settings, monkeypatch):
    wid, _ = await _warning(client, auth, conn)
    got = (await client.get(f"/api/v1/warnings/{wid}", headers=auth("partner")))
    assert got.status_code == 200
    p = got.json()["properties"]
    for hidden in ("assigned_to", "responses", "alert_ids", "incident_ids"):
        assert hidden not in p, hidden
    monkeypatch.setattr(settings, "partner_warnings_shared", False)
    for url in ("/api/v1/warnings", f"/api/v1/warnings/{wid}"):
        r = await client.get(url, headers=auth("partner"))
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
        r = await client.get(url, headers=auth("integration"))
        assert r.status_code == 403  # integrations never read warnings
