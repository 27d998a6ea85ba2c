"""Intake stores an alert durably and answers at once; triage follows off the request path."""

from __future__ import annotations

import asyncio

import orjson

from app.db import make_async_engine
from app.services.alerts import triage as alert_triage
from app.workers.triage import TriageWorker
from tests.support.alerts import alert_doc, counts, make_integration, post_alert, signed, triage_now


async def _post_untriaged(client, integ, doc, key=None):
    body = orjson.dumps(doc)
    return await client.post("/api/v1/alerts", content=body, headers=signed(integ, body, key=key))


async def test_alert_is_stored_before_triage_and_triaged_after(app, client, auth, conn):
    integ = await make_integration(client, auth)
    worker: TriageWorker = app.state.alert_triage
    with worker.pause:  # hold the worker off: what a client sees right after its 201
        r = await _post_untriaged(client, integ, alert_doc())
        assert r.status_code == 201 and r.json()["triaged"] is False
        aid = r.json()["id"]
        assert conn.execute("SELECT status, triage FROM alert WHERE id = %s", (aid,)).fetchone() == (
            "new",
            None,
        )
        assert counts(conn)["incident"] == 0
        seen = (await client.get(f"/api/v1/alerts/{aid}", headers=auth("operations"))).json()
        assert seen["status"] == "new" and seen["triaged"] is False
        listed = (await client.get("/api/v1/alerts?status=new", headers=auth("operations"))).json()
        assert [a["id"] for a in listed["items"]] == [aid]
        r = await client.post(f"/api/v1/alerts/{aid}/dismiss", json={"reason": "x"}, headers=auth("operations"))
        assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    await triage_now(client)  # (the worker may have started as soon as the pause ended)
    seen = (await client.get(f"/api/v1/alerts/{aid}", headers=auth("operations"))).json()
    assert seen["triaged"] is True and seen["incident_id"] and seen["opened_incident"] is True
    assert counts(conn)["incident"] == 1


async def test_a_new_worker_triages_what_an_earlier_run_left(app, client, auth, conn):
    integ = await make_integration(client, auth)
    with app.state.alert_triage.pause:  # the app's own worker stays off throughout
        for i in range(3):
            r = await _post_untriaged(client, integ, alert_doc(latitude=4.0 + i))
            assert r.status_code == 201
        # as after a restart: a fresh worker finds the queue in the table
        fresh = TriageWorker(app.state.settings, make_async_engine(app.state.settings, pool_size=2))
        fresh.start()
        try:
            await fresh.drain()  # its first pass at start-up may already have done them
        finally:
            await fresh.stop()
    assert conn.execute("SELECT count(*) FROM alert WHERE triage IS NULL").fetchone()[0] == 0
    assert counts(conn)["incident"] == 3


async def test_one_failing_alert_does_not_block_the_queue(app, client, auth, conn, monkeypatch):
    integ = await make_integration(client, auth)
    real = alert_triage.triage_into_incident

    async def flaky(session, settings, integ_row, values, lonlat, actor):
        if "boom" in values["text"]:
            raise ValueError("bad data")
        await real(session, settings, integ_row, values, lonlat, actor)

    monkeypatch.setattr(alert_triage, "triage_into_incident", flaky)
    with app.state.alert_triage.pause:
        await _post_untriaged(client, integ, alert_doc(text="boom"))
        await _post_untriaged(client, integ, alert_doc(text="fine", latitude=5.0))
    await triage_now(client)
    rows = dict(conn.execute("SELECT text, triage->>'action' FROM alert").fetchall())
    assert rows == {"boom": "error", "fine": "opened"}
    assert counts(conn)["incident"] == 1


async def test_concurrent_retries_with_one_key_store_one_alert(client, auth, conn):
    integ = await make_integration(client, auth)
    answers = await asyncio.gather(
        *(_post_untriaged(client, integ, alert_doc(), key="same-key") for _ in range(4))
    )
    assert [r.status_code for r in answers] == [201] * 4
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in answers) == 3
    await triage_now(client)
    assert counts(conn)["alert"] == 1 and counts(conn)["idempotency_key"] == 1


async def test_a_revoked_integration_is_refused_at_once_despite_the_cache(client, auth, conn):
    integ = await make_integration(client, auth)
    assert (await post_alert(client, integ, alert_doc())).status_code == 201  # token now cached
    before = counts(conn)
    r = await client.post(f"/api/v1/integrations/{integ['name']}/revoke", headers=auth("admin"))
    assert r.status_code == 200
    r = await post_alert(client, integ, alert_doc(text="after revoke"))
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    after = counts(conn)
    assert after["alert"] == before["alert"] and after["idempotency_key"] == before["idempotency_key"]


async def test_many_warnings_in_one_batch(app, client, auth, conn):
    """psycopg prepares a statement from its 5th execution on a connection and PostgreSQL then
    switches to a generic plan; raising warnings (INSERT … ON CONFLICT on a partial unique index)
    must keep working with it."""
    integ = await make_integration(client, auth)
    with app.state.alert_triage.pause:
        for i in range(16):
            doc = alert_doc(category="sexual_violence", latitude=3.0 + 0.2 * i, longitude=17.0 + 0.2 * i)
            assert (await _post_untriaged(client, integ, doc)).status_code == 201
    await triage_now(client)
    actions = [r[0] for r in conn.execute("SELECT triage->>'action' FROM alert").fetchall()]
    assert actions == ["opened"] * 16
    assert conn.execute("SELECT count(*) FROM warning WHERE rule = 'sexual_violence'").fetchone()[0] == 16


async def test_alerts_outside_the_integrations_area_are_kept_and_flagged(client, auth, conn):
    bangui = {
        "type": "Polygon",
        "coordinates": [[[18.4, 4.3], [18.7, 4.3], [18.7, 4.5], [18.4, 4.5], [18.4, 4.3]]],
    }
    integ = await make_integration(client, auth, name="can-bangui", area=bangui)
    inside = (await post_alert(client, integ, alert_doc())).json()["id"]
    outside = (await post_alert(client, integ, alert_doc(latitude=6.5, longitude=21.9))).json()["id"]
    seen = {
        a: (await client.get(f"/api/v1/alerts/{a}", headers=auth("operations"))).json()
        for a in (inside, outside)
    }
    assert "outside_area" not in seen[inside]["triage"]
    assert seen[outside]["triage"]["outside_area"] is True
    assert seen[outside]["incident_id"] and seen[outside]["triaged"] is True  # triaged as usual
    assert counts(conn)["alert"] == 2
