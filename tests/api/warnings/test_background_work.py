"""Background work belongs to the lifespan's workers: webhook deliveries go out after any commit
that queued them (not only where a router remembered to start them), no transaction is open while
a subscriber is being called, a delivery claimed by a process that died is sent again, expiry is
a scheduler job, and listing warnings writes nothing."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import h3
import psycopg

from app.repositories import warnings as warning_repo
from app.services.warnings import lifecycle as warning_svc
from app.services.warnings import webhooks


def _receiver(on_post=None):
    got: list[bytes] = []
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if on_post is not None:
                on_post()
            got.append(body)
            arrived.set()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got, arrived


async def _subscribe(client, auth, settings, monkeypatch, server):
    monkeypatch.setattr(settings, "webhook_allow_private_targets", True)
    r = await client.post(
        "/api/v1/warnings/subscriptions",
        json={"name": "ops", "url": f"http://127.0.0.1:{server.server_port}/hook"},
        headers=auth("admin"),
    )
    assert r.status_code == 201


def _layer():
    return [{"cell": h3.latlng_to_cell(5.76, 20.67, 6), "threat_level": "critical",
             "pattern": None, "threat_score": 0.9}]


async def test_a_warning_raised_outside_a_request_is_delivered_after_its_commit(
        app, client, auth, settings, monkeypatch):
    server, got, arrived = _receiver()
    try:
        await _subscribe(client, auth, settings, monkeypatch, server)
        async with app.state.sessionmaker() as session:  # as the scheduler's rule scan would
            raised = await warning_svc.evaluate_threat_layer(session, settings, _layer(),
                                                             now=datetime.now(UTC))
            await session.commit()
        assert len(raised) == 1
        # No drain, no router: the commit's outbox hook woke the dispatcher.
        assert await asyncio.to_thread(arrived.wait, 60)
    finally:
        server.shutdown()
    assert b"warning.created" in got[0]


async def test_no_transaction_is_held_while_a_subscriber_is_called(
        app, client, auth, settings, monkeypatch, db_url):
    locked_during_post: list[bool] = []

    def probe():  # runs inside the subscriber, while Kinga waits for its answer
        with psycopg.connect(db_url, autocommit=True) as c:
            try:
                c.execute("SELECT id FROM webhook_delivery FOR UPDATE NOWAIT").fetchall()
                locked_during_post.append(False)
            except psycopg.errors.LockNotAvailable:
                locked_during_post.append(True)

    server, got, arrived = _receiver(on_post=probe)
    try:
        await _subscribe(client, auth, settings, monkeypatch, server)
        async with app.state.sessionmaker() as session:
            await warning_svc.evaluate_threat_layer(session, settings, _layer(), now=datetime.now(UTC))
            await session.commit()
        assert await asyncio.to_thread(arrived.wait, 60)
    finally:
        server.shutdown()
    assert locked_during_post == [False]


async def test_a_delivery_claimed_by_a_process_that_died_is_sent_again(
        app, client, auth, settings, monkeypatch, conn):
    server, got, arrived = _receiver()
    try:
        await _subscribe(client, auth, settings, monkeypatch, server)
        await app.state.workers.scheduler.stop()  # nothing else may claim it meanwhile
        with app.state.workers.triage.pause:
            dispatcher = app.state.workers.webhooks
            await dispatcher.stop()
            try:
                async with app.state.sessionmaker() as session:
                    await warning_svc.evaluate_threat_layer(session, settings, _layer(),
                                                            now=datetime.now(UTC))
                    await session.commit()
                now = datetime.now(UTC)
                async with app.state.sessionmaker() as session:  # claimed, then the process "dies"
                    [claimed] = await warning_repo.claim_due(session, now, now + timedelta(minutes=5))
                    await session.commit()
                assert await webhooks.deliver_due(app.state.sessionmaker, settings) == 0  # leased
                conn.execute("UPDATE webhook_delivery SET next_attempt_at = now() - interval '1 s'")
                conn.commit()
                assert await webhooks.deliver_due(app.state.sessionmaker, settings) == 1
            finally:
                dispatcher.start()
                app.state.workers.scheduler.start(app.state.sessionmaker)
    finally:
        server.shutdown()
    assert len(got) == 1
    status, attempts = conn.execute(
        "SELECT status, attempt_count FROM webhook_delivery WHERE id = %s", (claimed["id"],)).fetchone()
    assert (status, attempts) == ("delivered", 1)


async def test_listing_warnings_writes_nothing_and_expiry_is_a_scheduler_job(app, client, auth, conn,
                                                                              settings):
    async with app.state.sessionmaker() as session:
        [wid] = await warning_svc.evaluate_threat_layer(session, settings, _layer(),
                                                        now=datetime.now(UTC))
        await session.commit()
    conn.execute("UPDATE warning SET expires_at = now() - interval '1 minute' WHERE id = %s", (wid,))
    conn.commit()
    version = conn.execute("SELECT updated_at FROM warning WHERE id = %s", (wid,)).fetchone()
    for path in ("/api/v1/warnings", "/api/v1/warnings/feed", "/api/v1/warnings?status=expired"):
        r = await client.get(path, headers=auth("operations"))
        assert r.status_code == 200
    listed = (await client.get("/api/v1/warnings?status=expired", headers=auth("operations"))).json()
    assert [f["properties"]["status"] for f in listed["features"]] == ["expired"]  # shown at once
    stored = conn.execute("SELECT status, updated_at FROM warning WHERE id = %s", (wid,)).fetchone()
    assert stored == ("active", version[0])  # ... but the GETs wrote nothing
    assert await app.state.workers.scheduler.run_job("warnings.expire") == 1
    conn.commit()
    assert conn.execute("SELECT status FROM warning WHERE id = %s", (wid,)).fetchone()[0] == "expired"
    assert await app.state.workers.scheduler.run_job("warnings.expire") == 0  # idempotent
