"""Answering the community: the reporter of an alert hears, through the integration that posted
it (a signed POST to its SMS gateway, here a fake one on loopback), that the alert was received,
and again that help was sent once a response is dispatched: in the alert's language, naming no
unit, no time of arrival and no other reporter. Logged, retried, never in the way of intake;
integrations can opt out; nothing is lost or sent twice across a restart."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from app.main import create_app
from app.repositories import warnings as warning_repo
from app.services.warnings import webhooks
from tests.support.alerts import alert_doc, make_integration, post_alert, signed, triage_now
from tests.support.loop import FakeGateway, make_base, signature_ok

SENDER = "+23675000111"


async def _setup(client, auth, settings, monkeypatch, gw, **over):
    monkeypatch.setattr(settings, "webhook_allow_private_targets", True)
    return await make_integration(client, auth, ack_url=f"{gw.url}/sms/out", **over)


async def _sms(client, integ, text, sender=SENDER):
    body = urlencode({"sender": sender, "text": text}).encode()
    return await post_alert(client, integ, raw=body, content_type="application/x-www-form-urlencoded")


async def test_the_reporter_hears_the_alert_was_received_then_that_help_was_sent(
        client, auth, conn, settings, monkeypatch):
    gw = FakeGateway().start()
    try:
        await make_base(client, auth, latitude=5.76, longitude=20.67)
        integ = await _setup(client, auth, settings, monkeypatch, gw)
        r = await _sms(client, integ, "Femme violée au marché de Bambari hier soir")
        assert r.status_code == 201
        [got] = gw.of("alert.received")
        assert got.path == "/sms/out" and signature_ok(integ["signing_secret"], got)
        body = got.json
        assert body["to"] == SENDER and body["alert_id"] == r.json()["id"]
        assert body["delivery_id"] == got.headers["X-Kinga-Delivery"]
        assert body["message"] == "Your alert was received. Thank you."  # SMS: no language given
        # A second reporter in French joins the same sexual-violence warning.
        other = await post_alert(client, integ, alert_doc(
            category="sexual_violence", latitude=5.7601, longitude=20.6701, language="fr",
            reporter_contact="+23675000999", text="Une femme agressée près du marché"))
        fr = [g for g in gw.of("alert.received") if g.json["alert_id"] == other.json()["id"]]
        assert fr[0].json["message"] == "Votre alerte a été reçue. Merci." and fr[0].json["language"] == "fr"
        warnings = (await client.get("/api/v1/warnings", headers=auth("operations"))).json()["features"]
        [w] = [f for f in warnings if f["properties"]["rule"] == "sexual_violence"]
        assert set(w["properties"]["alert_ids"]) == {r.json()["id"], other.json()["id"]}
        rid = (await client.post(f"/api/v1/warnings/{w['id']}/responses", headers=auth("operations"), json={
            "type": "patrol", "unit": "BANBATT Coy C", "mode": "road", "people": 30,
            "dispatched_at": datetime.now(UTC).isoformat()})).json()["id"]
        await triage_now(client)
        sent = gw.of("alert.dispatched")
        assert sorted(s.json["to"] for s in sent) == sorted(["+23675000999", SENDER])
        for s in sent:
            text = s.body.decode()
            assert "BANBATT" not in text and "Coy" not in text and "road" not in text
            assert not re.search(r"\b\d{1,2}[:h]\d{2}\b", s.json["message"])  # no time of arrival
            others = {"+23675000999", SENDER} - {s.json["to"]}
            assert not any(o in text for o in others)  # no other reporter
            assert signature_ok(integ["signing_secret"], s)
        # A second dispatch, or arrival, sends nothing new.
        await client.patch(f"/api/v1/warnings/{w['id']}/responses/{rid}", headers=auth("operations"),
                           json={"on_scene_at": datetime.now(UTC).isoformat()})
        await client.post(f"/api/v1/warnings/{w['id']}/responses", headers=auth("operations"), json={
            "type": "quick_reaction_force", "dispatched_at": datetime.now(UTC).isoformat()})
        await triage_now(client)
        assert len(gw.of("alert.dispatched")) == 2
        log = (await client.get("/api/v1/warnings/deliveries?channel=community_ack",
                                headers=auth("admin"))).json()["items"]
        assert len(log) == 4 and {d["status"] for d in log} == {"delivered"}
        assert all("to" not in str(d) and SENDER not in str(d) for d in log)
        m = (await client.get("/api/v1/response-metrics", headers=auth("operations"))).json()
        assert m["community_acknowledgements"]["sent"] == 4
        stored = conn.execute("SELECT payload::text FROM webhook_delivery WHERE channel = 'community_ack'").fetchall()
        assert not any(SENDER in p[0] for p in stored)  # the outbox never holds the contact
    finally:
        gw.stop()


async def test_integrations_can_opt_out_and_no_ack_url_means_no_message(client, auth, conn, settings,
                                                                        monkeypatch):
    gw = FakeGateway().start()
    try:
        integ = await _setup(client, auth, settings, monkeypatch, gw, acknowledge_reporters=False)
        await _sms(client, integ, "Armed men at the river")
        silent = await make_integration(client, auth, name="no-gateway")
        await _sms(client, silent, "Armed men at the bridge")
        assert conn.execute("SELECT count(*) FROM webhook_delivery").fetchone()[0] == 0
        opted_in = await _setup(client, auth, settings, monkeypatch, gw, name="later")
        r = await client.patch("/api/v1/integrations/later", json={"acknowledge_reporters": False},
                               headers=auth("admin"))
        assert r.status_code == 200 and r.json()["acknowledge_reporters"] is False
        await _sms(client, opted_in, "Shots in the night")
        assert gw.got == []
        r = await client.patch("/api/v1/integrations/later", json={"ack_url": "ftp://x"},
                               headers=auth("admin"))
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/ack_url"
        assert (await client.patch("/api/v1/integrations/later", json={"acknowledge_reporters": True},
                                   headers=auth("operations"))).status_code == 403
    finally:
        gw.stop()


async def test_a_failing_gateway_never_blocks_intake_and_is_retried(client, auth, conn, settings,
                                                                     monkeypatch):
    gw = FakeGateway(status=503).start()
    try:
        integ = await _setup(client, auth, settings, monkeypatch, gw)
        r = await _sms(client, integ, "Village burnt")
        assert r.status_code == 201
        status, attempts, nxt = conn.execute(
            "SELECT status, attempt_count, next_attempt_at FROM webhook_delivery").fetchone()
        assert (status, attempts) == ("pending", 1) and nxt > datetime.now(UTC)
        log = conn.execute("SELECT attempts FROM webhook_delivery").fetchone()[0]
        assert log[0]["status_code"] == 503
        gw.status = 200
        conn.execute("UPDATE webhook_delivery SET next_attempt_at = now()")
        conn.commit()
        await triage_now(client)
        assert conn.execute("SELECT status, attempt_count FROM webhook_delivery").fetchone() == ("delivered", 2)
        ids = {g.headers["X-Kinga-Delivery"] for g in gw.got}
        assert len(ids) == 1 and len(gw.got) == 2  # one delivery, tried twice, same id
    finally:
        gw.stop()


async def test_a_restart_between_claim_and_commit_loses_and_duplicates_nothing(
        app, client, auth, conn, settings, monkeypatch):
    """A server claims an acknowledgement (its lease committed) and dies before posting or
    recording it: the next server sends it exactly once when the lease ends."""
    gw = FakeGateway().start()
    workers = app.state.workers
    await workers.scheduler.stop()
    try:
        integ = await _setup(client, auth, settings, monkeypatch, gw)
        await workers.webhooks.stop()  # this server will not send it
        body = urlencode({"sender": SENDER, "text": "Armed men at the school"}).encode()
        r = await client.post("/api/v1/alerts", content=body, headers=signed(
            integ, body, "application/x-www-form-urlencoded"))
        assert r.status_code == 201
        await workers.triage.drain()  # triage commits the queued acknowledgement
        now = datetime.now(UTC)
        async with app.state.sessionmaker() as session:  # a server claims it, then dies
            [claimed] = await warning_repo.claim_due(session, now, now + timedelta(minutes=5))
            await session.commit()
        assert claimed["channel"] == "community_ack"
        # The restarted server: a new app (lifespan) on the same database.
        restarted = create_app(settings)
        async with restarted.router.lifespan_context(restarted):
            await restarted.state.workers.scheduler.stop()
            await restarted.state.workers.webhooks.stop()  # its sends are made by hand below
            maker = restarted.state.sessionmaker
            assert await webhooks.deliver_due(maker, settings) == 0  # leased: not yet
            conn.execute("UPDATE webhook_delivery SET next_attempt_at = now() - interval '1 s'")
            conn.commit()
            assert await webhooks.deliver_due(maker, settings) == 1
            assert await webhooks.deliver_due(maker, settings) == 0
        assert len(gw.of("alert.received")) == 1
        assert conn.execute("SELECT status, attempt_count FROM webhook_delivery").fetchone() == ("delivered", 1)
    finally:
        workers.webhooks.start()
        workers.scheduler.start(app.state.sessionmaker)
        gw.stop()
    assert webhooks.FINAL_ERRORS  # the failure kinds no retry cures stay declared
