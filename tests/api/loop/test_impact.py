"""GET /api/v1/impact: incidents before and after a closed response in its cell, beside matched
comparison cells that got no response; suppressed on too few cells; always said to be an
association, not a proof of effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import h3

from tests.conftest import incident_body
from tests.support.loop import flash_body, make_base, writes

RES = 7  # KINGA_IMPACT_RES default


def _iso(t):
    return t.isoformat()


async def _incidents(client, auth, lat, lon, when, n):
    for i in range(n):
        r = await client.post("/api/v1/incidents", headers=auth("analyst"), json=incident_body(
            latitude=lat, longitude=lon, occurred_start=_iso(when + timedelta(hours=i))))
        assert r.status_code == 201, r.text


async def _closed_response(client, auth, conn, lat, lon, t0):
    ops = auth("operations")
    wid = (await client.post("/api/v1/warnings", headers=ops,
                             json=flash_body(latitude=lat, longitude=lon))).json()["id"]
    conn.execute("UPDATE warning SET created_at = %s WHERE id = %s", (t0, wid))
    conn.commit()
    r = await client.post(f"/api/v1/warnings/{wid}/responses", headers=ops, json={
        "type": "patrol", "unit": "Coy B", "mode": "road", "people": 30,
        "acknowledged_at": _iso(t0 + timedelta(minutes=5)),
        "dispatched_at": _iso(t0 + timedelta(minutes=10))})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    for step in ({"on_scene_at": _iso(t0 + timedelta(minutes=40))},
                 {"completed_at": _iso(t0 + timedelta(minutes=90)), "outcome": "deterred"}):
        r = await client.patch(f"/api/v1/warnings/{wid}/responses/{rid}", headers=ops, json=step)
        assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/warnings/{wid}/status", headers=ops,
                          json={"status": "closed", "outcome": "deterred"})
    assert r.status_code == 200, r.text
    return wid


def _cell(lat, lon):
    return h3.latlng_to_cell(lat, lon, RES)


async def test_one_response_shows_its_cells_before_and_after_but_no_estimate(client, auth, conn):
    await make_base(client, auth)
    t0 = datetime.now(UTC) - timedelta(days=20)
    await _incidents(client, auth, 5.80, 20.70, t0 - timedelta(days=5), 3)  # the target, before
    await _incidents(client, auth, 5.85, 20.70, t0 - timedelta(days=5), 3)  # a like cell, before
    await _incidents(client, auth, 5.85, 20.70, t0 + timedelta(days=5), 2)  # ... and after
    wid = await _closed_response(client, auth, conn, 5.80, 20.70, t0)
    before = writes(conn)
    r = await client.get("/api/v1/impact", headers=auth("analyst"),
                         params={"start": (t0 - timedelta(days=1)).date().isoformat()})
    assert r.status_code == 200, r.text
    out = r.json()
    assert "not a proof of effect" in out["note"]
    assert out["treatments"] == {"responses": 1, "patrols": 0, "measured": 1}
    [ev] = out["events"]
    assert ev["warning_id"] == wid and ev["outcome"] == "deterred" and ev["kind"] == "response"
    assert ev["target_cells"] == [_cell(5.80, 20.70)]
    assert ev["target_incidents"] == {"before": 3, "after": 0}
    # the best match is the cell with the same prior incidents (3), not a quiet one
    assert ev["comparison_cells"][0] == _cell(5.85, 20.70)
    assert _cell(5.80, 20.70) not in ev["comparison_cells"]
    assert ev["comparison_incidents"] == {"before": 3, "after": 2}
    # one target cell: too few for a rate or a difference in differences
    assert ev["suppressed"] is True and ev["difference_in_differences"] is None
    assert out["overall"]["suppressed"] is True
    assert writes(conn) == before  # a GET writes nothing


async def test_enough_responses_give_a_difference_in_differences_by_field_office(client, auth, conn):
    await make_base(client, auth)
    t0 = datetime.now(UTC) - timedelta(days=20)
    places = [(5.5 + 0.3 * i, 20.5) for i in range(5)]
    for lat, lon in places:
        await _incidents(client, auth, lat, lon, t0 - timedelta(days=7), 2)       # target: 2 → 0
        await _incidents(client, auth, lat + 0.06, lon, t0 - timedelta(days=7), 2)  # like: 2 → 2
        await _incidents(client, auth, lat + 0.06, lon, t0 + timedelta(days=3), 2)
    wids = [await _closed_response(client, auth, conn, lat, lon, t0) for lat, lon in places]
    out = (await client.get("/api/v1/impact", headers=auth("operations"),
                            params={"start": (t0 - timedelta(days=1)).isoformat()})).json()
    assert {e["warning_id"] for e in out["events"]} == set(wids)
    targets = {c for e in out["events"] for c in e["target_cells"]}
    assert not targets & {c for e in out["events"] for c in e["comparison_cells"]}
    overall = out["overall"]
    assert overall["suppressed"] is False and overall["n_target_cells"] == 5
    assert overall["target_incidents"] == {"before": 10, "after": 0}
    assert overall["target"]["incidents"]["after_per_30d"] == 0
    assert overall["prior_gap_per_30d"] >= 0  # targets at least as busy before as their matches
    # targets fell, their matches rose: the association is negative
    assert overall["difference_in_differences"]["incidents"] < 0
    assert overall["difference_in_differences"]["harm"] < 0
    [office] = out["by"]["field_office"]
    assert office["field_office"] == "Bambari COB" and office["treatments"] == 5
    assert [g["rule"] for g in out["by"]["rule"]] == [out["events"][0]["rule"]]
    assert out["by"]["month"] and out["by"]["desired_effect"][0]["desired_effect"] == "response"


async def test_a_response_whose_after_window_has_not_begun_is_pending(client, auth, conn):
    await make_base(client, auth)
    t0 = datetime.now(UTC) - timedelta(hours=3)
    await _closed_response(client, auth, conn, 5.80, 20.70, t0)
    out = (await client.get("/api/v1/impact", headers=auth("analyst"))).json()
    [ev] = out["events"]
    assert ev["pending"] is True and out["treatments"]["measured"] == 0


async def test_a_bad_period_is_refused(client, auth):
    r = await client.get("/api/v1/impact?start=2025-06-01&end=2025-01-01", headers=auth("analyst"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["pointer"] == "/query/end"
    r = await client.get("/api/v1/impact?start=2020-01-01&end=2025-01-01", headers=auth("analyst"))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/query/start"


async def test_a_reported_patrol_is_measured_in_its_cells_and_a_plan_not_gone_is_not(client, auth):
    from tests.api.planning.test_patrols_api import PLAN, seed

    await seed(client, auth)  # night attacks around Bambari in early March 2024
    plan = (await client.post("/api/v1/patrol-plans", json={**PLAN, "save": True},
                              headers=auth("operations"))).json()
    went, *others = plan["tasks"]
    url = f"/api/v1/patrol-plans/{plan['id']}/tasks/{{}}/report"
    r = await client.post(url.format(went["id"]), headers=auth("operations"), json={
        "status": "done", "started_at": "2024-03-11T18:00:00Z", "ended_at": "2024-03-11T23:00:00Z"})
    assert r.status_code == 201, r.text
    if others:
        r = await client.post(url.format(others[0]["id"]), headers=auth("operations"),
                              json={"status": "not_done", "reason": "road flooded"})
        assert r.status_code == 201
    out = (await client.get("/api/v1/impact?start=2024-03-01&end=2024-03-31",
                            headers=auth("analyst"))).json()
    assert out["treatments"] == {"responses": 0, "patrols": 1, "measured": 1}
    [ev] = out["events"]
    assert ev["kind"] == "patrol" and ev["task_id"] == went["id"] and ev["plan_id"] == plan["id"]
    assert ev["desired_effect"] == went["desired_effect"] and ev["after_days_observed"] == 28
    assert ev["target_cells"] and not set(ev["target_cells"]) & set(ev["comparison_cells"])
    assert all(h3.get_resolution(c) == RES for c in ev["target_cells"] + ev["comparison_cells"])
    assert ev["target_incidents"]["before"] >= 1  # the attacks the patrol was sent for
    assert [g["desired_effect"] for g in out["by"]["desired_effect"]] == [went["desired_effect"]]
