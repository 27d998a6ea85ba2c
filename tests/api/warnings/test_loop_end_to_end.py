"""The whole loop through the API on real PostGIS with the scheduler running (its own app, rule
scans and overdue checks every fraction of a second): a staff-recorded incident and a community
alert each become a warning with no request asking for it, owned by the nearest base with
deadlines; the warning is acknowledged, a unit dispatched, on scene, completed with an outcome,
the warning closed; the impact endpoint then measures that response.

Time is moved by hand once: the raised warning is dated three days back (the row's created_at)
so that its response has an "after" window to measure; nothing else is faked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from app.main import create_app
from tests.conftest import incident_body
from tests.support.alerts import alert_doc, make_integration, post_alert
from tests.support.loop import make_base


async def _until(fn, timeout=30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        got = await fn()
        if got:
            return got
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def test_alert_and_incident_to_warning_to_outcome_to_impact(settings, auth, conn):
    fast = settings.model_copy(update={"rule_scan_minutes": 0.01, "overdue_check_s": 0.5})
    app = create_app(fast)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kinga.test") as client:
        await make_base(client, auth)  # Bambari COB at 5.76, 20.67
        ops = auth("operations")
        # 1. a staff-recorded sexual-violence incident: the scheduler's scan raises the warning
        now = datetime.now(UTC)
        r = await client.post("/api/v1/incidents", headers=auth("analyst"), json=incident_body(
            category="sexual_violence", crsv_survivors=1, latitude=5.80, longitude=20.70,
            occurred_start=(now - timedelta(hours=2)).isoformat()))
        assert r.status_code == 201
        incident = r.json()["id"]

        async def scan_warning():
            items = (await client.get("/api/v1/warnings", headers=ops)).json()["features"]
            return [w for w in items if incident in w["properties"]["incident_ids"]]

        [w] = await _until(scan_warning)
        p = w["properties"]
        assert p["source"] == "incident" and p["assigned_to"] == "Bambari COB"
        assert p["acknowledge_by"] and p["status"] == "active"
        # 2. a community alert of sexual violence: triage raises its warning, same owner
        integ = await make_integration(client, auth)
        alert = (await post_alert(client, integ, alert_doc(
            category="sexual_violence", latitude=5.79, longitude=20.69,
            observed_at=(now - timedelta(hours=1)).isoformat()))).json()["id"]

        async def alert_warning():
            items = (await client.get("/api/v1/warnings", headers=ops)).json()["features"]
            return [x for x in items if alert in x["properties"]["alert_ids"]]

        [aw] = await _until(alert_warning)
        assert aw["properties"]["source"] == "alert" and aw["properties"]["assigned_to"] == "Bambari COB"
        # 3. the response to the scan's warning, dated three days back
        wid = w["id"]
        t0 = now - timedelta(days=3)
        conn.execute("UPDATE warning SET created_at = %s, acknowledge_by = %s, on_scene_by = %s "
                     "WHERE id = %s", (t0, t0 + timedelta(minutes=15), t0 + timedelta(hours=2), wid))
        conn.commit()
        r = await client.post(f"/api/v1/warnings/{wid}/responses", headers=ops, json={
            "type": "patrol", "unit": "Coy B", "mode": "road", "people": 30,
            "acknowledged_at": (t0 + timedelta(minutes=10)).isoformat(),
            "dispatched_at": (t0 + timedelta(minutes=20)).isoformat()})
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        for step in ({"on_scene_at": (t0 + timedelta(minutes=80)).isoformat(),
                      "delay_reasons": ["road_or_access_denied"]},
                     {"completed_at": (t0 + timedelta(hours=3)).isoformat(),
                      "outcome": "incident_found_reported", "incident_ids": [incident]}):
            r = await client.patch(f"/api/v1/warnings/{wid}/responses/{rid}", headers=ops, json=step)
            assert r.status_code == 200, r.text
        r = await client.post(f"/api/v1/warnings/{wid}/status", headers=ops,
                              json={"status": "closed", "outcome": "incident_found_reported"})
        assert r.status_code == 200 and r.json()["properties"]["status"] == "closed"
        # acknowledged in time, on scene too late: the metrics say so, with their counts
        m = (await client.get("/api/v1/response-metrics", headers=ops,
                              params={"start": (t0 - timedelta(days=1)).isoformat()})).json()
        assert m["warnings"] >= 1
        # 4. its impact: the response's cell before and after, beside comparison cells
        out = (await client.get("/api/v1/impact", headers=auth("analyst"),
                                params={"start": (t0 - timedelta(days=1)).isoformat()})).json()
        [ev] = [e for e in out["events"] if e.get("warning_id") == wid]
        assert ev["outcome"] == "incident_found_reported" and ev["field_office"] == "Bambari COB"
        # the warning was dated back: its own incident (2 h ago) falls in the after window
        assert ev["target_incidents"]["before"] == 0 and ev["target_incidents"]["after"] >= 1
        assert len(ev["comparison_cells"]) == fast.impact_matches
        assert "not a proof" in out["note"]
        assert app.state.workers.scheduler.runs.get("warnings.rule_scan", 0) >= 1
