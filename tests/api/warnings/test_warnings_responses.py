"""Responses to warnings and the response metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.alerts import alert_doc, make_integration, post_alert


async def _warning(client, auth, integ, lat=4.39, lon=18.56):
    await post_alert(client, integ, alert_doc(category="sexual_violence", latitude=lat, longitude=lon))
    r = await client.get("/api/v1/warnings?status=active", headers=auth("operations"))
    return r.json()["features"][0]


def _set_created(conn, warning_id, when):
    conn.execute("UPDATE warning SET created_at = %s WHERE id = %s", (when, warning_id))
    conn.commit()


async def test_responses_drive_the_lifecycle_and_the_metrics(client, auth, conn):
    integ = await make_integration(client, auth)
    t0 = datetime.now(UTC) - timedelta(hours=10)
    w1 = await _warning(client, auth, integ)
    w2 = await _warning(client, auth, integ, lat=6.5, lon=21.9)
    w3 = await _warning(client, auth, integ, lat=7.0, lon=19.2)
    for w in (w1, w2, w3):
        _set_created(conn, w["id"], t0)
    ops = auth("operations")
    iso = lambda m: (t0 + timedelta(minutes=m)).isoformat()  # noqa: E731
    r = await client.post(
        f"/api/v1/warnings/{w1['id']}/responses",
        headers=ops,
        json={
            "type": "patrol",
            "unit": "BANBATT-2 Coy B",
            "acknowledged_at": iso(10),
            "dispatched_at": iso(40),
            "on_scene_at": iso(160),
            "completed_at": iso(200),
            "outcome": "deterred",
            "outcome_note": "Patrol deterred attackers",
            "delay_reasons": ["road_or_access_denied"],
        },
    )
    assert r.status_code == 201 and r.json()["warning_status"] == "responded"
    r = await client.post(
        f"/api/v1/warnings/{w2['id']}/responses",
        headers=ops,
        json={
            "type": "quick_reaction_force",
            "acknowledged_at": iso(30),
            "dispatched_at": iso(90),
            "on_scene_at": iso(400),
            "delay_reasons": ["no_air_asset", "road_or_access_denied"],
        },
    )
    assert r.status_code == 201
    r = await client.post(
        f"/api/v1/warnings/{w3['id']}/responses",
        headers=ops,
        json={"type": "none", "acknowledged_at": iso(60), "delay_reasons": ["insufficient_troops"]},
    )
    assert r.status_code == 201 and r.json()["warning_status"] == "acknowledged"

    m = (await client.get("/api/v1/response-metrics", headers=ops)).json()
    assert m["warnings"] == 3
    assert m["time_to_acknowledge"] == {"n": 3, "median": 30.0, "p90": 54.0}
    assert m["time_to_dispatch"] == {"n": 2, "median": 65.0, "p90": 85.0}
    assert m["time_to_arrive"] == {"n": 2, "median": 280.0, "p90": 376.0}
    assert m["no_response"] == {"count": 1, "share": round(1 / 3, 4)}
    assert m["delay_reasons"] == {
        "road_or_access_denied": 2,
        "insufficient_troops": 1,
        "no_air_asset": 1,
    }
    west = (await client.get("/api/v1/response-metrics?bbox=18,4,19,5", headers=ops)).json()
    assert west["warnings"] == 1 and west["time_to_arrive"]["median"] == 160.0
    later = (
        await client.get(f"/api/v1/response-metrics?start={datetime.now(UTC).date()}T23:59:59Z", headers=ops)
    ).json()
    assert later["warnings"] == 0 and later["no_response"]["share"] is None


BAD = [
    ({"type": "airstrike"}, "/body/type"),
    ({"type": "patrol", "delay_reasons": ["bad_luck"]}, "/body/delay_reasons/0"),
    (
        {
            "type": "patrol",
            "acknowledged_at": "2030-01-01T00:10:00Z",
            "dispatched_at": "2030-01-01T00:00:00Z",
        },
        "/body",
    ),
    ({"type": "none", "dispatched_at": "2030-01-01T00:00:00Z"}, "/body"),
    ({"type": "patrol", "dispatched_at": "2000-01-01T00:00:00Z"}, "/body/dispatched_at"),
]


@pytest.mark.parametrize("body,pointer", BAD, ids=[p for _, p in BAD])
async def test_bad_responses_are_refused(client, auth, conn, body, pointer):
    integ = await make_integration(client, auth)
    w = await _warning(client, auth, integ)
    r = await client.post(f"/api/v1/warnings/{w['id']}/responses", json=body, headers=auth("operations"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert any(e["pointer"].startswith(pointer) for e in r.json()["errors"]), r.json()
    assert conn.execute("SELECT count(*) FROM warning_response").fetchone()[0] == 0


async def test_no_responses_after_a_warning_is_closed(client, auth):
    integ = await make_integration(client, auth)
    w = await _warning(client, auth, integ)
    await client.post(
        f"/api/v1/warnings/{w['id']}/status",
        json={"status": "cancelled", "reason": "duplicate of another warning"},
        headers=auth("operations"),
    )
    r = await client.post(
        f"/api/v1/warnings/{w['id']}/responses", json={"type": "patrol"}, headers=auth("operations")
    )
    assert r.status_code == 409
    assert (
        await client.post(
            f"/api/v1/warnings/{w['id']}/responses",
            json={"type": "patrol"},
            headers=auth("partner"),
        )
    ).status_code == 403
