"""Overdue warnings: flagged on every listing at once, the duty officer's queue
(?overdue=true), and escalated by the scheduler one level per missed deadline to the webhook
subscribers of that level; counted in the metrics."""

from __future__ import annotations

import asyncio

from tests.support.loop import FakeGateway, flash_body, make_base


async def _subscribe(client, auth, url, level):
    r = await client.post("/api/v1/warnings/subscriptions", headers=auth("admin"),
                          json={"name": f"level {level}", "url": url, "level": level})
    assert r.status_code == 201, r.text


async def test_missed_deadlines_escalate_one_level_each_to_that_levels_subscribers(
        app, client, auth, conn, settings, monkeypatch):
    monkeypatch.setattr(settings, "webhook_allow_private_targets", True)
    gw = FakeGateway().start()
    try:
        for level in (0, 1, 2):
            await _subscribe(client, auth, f"{gw.url}/l{level}", level)
        await make_base(client, auth)
        ops = auth("operations")
        wid = (await client.post("/api/v1/warnings", json=flash_body(), headers=ops)).json()["id"]
        other = (await client.post("/api/v1/warnings", json=flash_body(latitude=5.9), headers=ops)).json()["id"]
        queue = (await client.get("/api/v1/warnings?overdue=true", headers=ops)).json()["features"]
        assert queue == []
        conn.execute("UPDATE warning SET acknowledge_by = now() - interval '1 minute' WHERE id = %s", (wid,))
        conn.commit()
        # Flagged at once, before the scheduler has looked:
        queue = (await client.get("/api/v1/warnings?overdue=true", headers=ops)).json()["features"]
        assert [f["id"] for f in queue] == [wid] and queue[0]["properties"]["overdue"] is True
        rest = (await client.get("/api/v1/warnings?overdue=false", headers=ops)).json()["features"]
        assert [f["id"] for f in rest] == [other]
        scheduler = app.state.workers.scheduler
        assert await scheduler.run_job("warnings.overdue") == 1
        assert await scheduler.run_job("warnings.overdue") == 0  # each deadline escalates once
        await app.state.workers.webhooks.drain()
        assert [r.path for r in gw.of("warning.escalated")] == ["/l0", "/l1"] or \
            sorted(r.path for r in gw.of("warning.escalated")) == ["/l0", "/l1"]
        assert {r.path for r in gw.of("warning.created")} == {"/l0"}
        row = conn.execute("SELECT escalation_level, acknowledge_overdue_at IS NOT NULL FROM warning "
                           "WHERE id = %s", (wid,)).fetchone()
        assert row == (1, True)
        # Acknowledged late; then nobody on scene by the target: level 2, headquarters hears.
        await client.post(f"/api/v1/warnings/{wid}/status", headers=ops, json={"status": "acknowledged"})
        conn.execute("UPDATE warning SET on_scene_by = now() - interval '1 minute' WHERE id = %s", (wid,))
        conn.commit()
        queue = (await client.get("/api/v1/warnings?overdue=true", headers=ops)).json()["features"]
        assert [f["id"] for f in queue] == [wid]
        assert await scheduler.run_job("warnings.overdue") == 1
        await app.state.workers.webhooks.drain()
        assert sorted(r.path for r in gw.of("warning.escalated")) == ["/l0", "/l0", "/l1", "/l2"]
        payload = [r.json for r in gw.of("warning.escalated") if r.path == "/l2"][0]
        assert payload["warning"]["properties"]["escalation_level"] == 2
        # Someone on scene: off the queue.
        r = await client.post(f"/api/v1/warnings/{wid}/responses", headers=ops, json={
            "type": "patrol", "dispatched_at": payload["warning"]["properties"]["acknowledged_at"],
            "on_scene_at": payload["warning"]["properties"]["acknowledged_at"]})
        assert r.status_code == 201, r.text
        assert (await client.get("/api/v1/warnings?overdue=true", headers=ops)).json()["features"] == []
        m = (await client.get("/api/v1/response-metrics", headers=ops)).json()
        assert m["overdue"]["acknowledgement_missed"]["count"] == 1
        assert m["overdue"]["on_scene_missed"]["count"] == 1
        assert m["overdue"]["escalated"] == 1
    finally:
        gw.stop()
    await asyncio.sleep(0)
