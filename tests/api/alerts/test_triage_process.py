"""Triage in a process of its own (the default outside the test suite): the server process only
stores alerts; a child process triages them, raises warnings whose webhooks the server's
dispatcher sends, stays off while `pause` is held, is restarted if it dies and is gone when the
server stops."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from typing import Any

import httpx
import orjson
import pytest

from app.main import create_app
from tests.api.warnings.test_background_work import _receiver
from tests.support.alerts import alert_doc, make_integration, signed


async def _wait(conn: Any, sql: str, want: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = conn.execute(sql).fetchone()[0]
        if got == want or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.1)


@pytest.fixture
async def process_app(app: Any, settings: Any) -> Any:
    """A second server on the test database whose triage runs in a child process; the session
    app's own triage thread is held off meanwhile, so every triage here is the child's."""
    own = settings.model_copy(update={"alert_triage_process": True, "alert_triage_poll_s": 0.2,
                                      "webhook_allow_private_targets": True,
                                      # A poll as well as the wake-up through the pipe: in
                                      # the whole suite's order (not alone) the wake-up was
                                      # seen lost (the delivery pending, never attempted,
                                      # since the triangulation and threat changes of
                                      # 2026-11-30 met); open, see the closing note.
                                      "webhook_poll_s": 1.0})
    application = create_app(own)
    session_webhooks = app.state.workers.webhooks
    await session_webhooks.stop()  # deliveries here are this server's dispatcher's alone
    try:
        with app.state.alert_triage.pause:
            async with application.router.lifespan_context(application):
                yield application
    finally:
        session_webhooks.start(app.state.sessionmaker)


@pytest.fixture
async def pclient(process_app: Any) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=process_app),
                                 base_url="http://kinga.test") as c:
        yield c


async def _post(client: Any, integ: dict[str, Any], doc: dict[str, Any]) -> str:
    body = orjson.dumps(doc)
    r = await client.post("/api/v1/alerts", content=body, headers=signed(integ, body))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_the_child_process_triages_and_its_warnings_are_delivered(process_app, pclient, auth,
                                                                         conn):
    triage = process_app.state.workers.triage
    assert triage.pid is not None and triage.pid != os.getpid()
    server, got, arrived = _receiver()
    try:
        r = await pclient.post("/api/v1/warnings/subscriptions", headers=auth("admin"), json={
            "name": "ops", "url": f"http://127.0.0.1:{server.server_port}/hook"})
        assert r.status_code == 201, r.text
        integ = await make_integration(pclient, auth)
        aid = await _post(pclient, integ, alert_doc(category="sexual_violence"))
        assert await _wait(conn, f"SELECT triage IS NOT NULL FROM alert WHERE id = '{aid}'", True)
        raised = conn.execute("SELECT id::text FROM warning WHERE rule = 'sexual_violence'"
                              ).fetchall()
        triaged = conn.execute("SELECT triage FROM alert WHERE id = %s", (aid,)).fetchone()[0]
        assert len(raised) == 1, (raised, triaged)
        wid = raised[0][0]
        # the child queued the delivery; the server's dispatcher sent it
        if not await asyncio.to_thread(arrived.wait, 60):  # say what the delivery's row says
            conn.rollback()
            rows = conn.execute("SELECT channel, event, status, attempt_count, attempts, "
                                "next_attempt_at, now() FROM webhook_delivery").fetchall()
            pytest.fail(f"not delivered within 60 s; child alive: {triage.pid} "
                        f"{process_app.state.workers.triage.pid}; deliveries: {rows}")
        sent = orjson.loads(got[0])
        assert sent["event"] == "warning.created" and sent["warning"]["id"] == wid
    finally:
        server.shutdown()


async def test_pause_keeps_the_child_off_and_drain_triages_here(process_app, pclient, auth, conn):
    triage = process_app.state.workers.triage
    integ = await make_integration(pclient, auth)
    with triage.pause:
        aid = await _post(pclient, integ, alert_doc())
        await asyncio.sleep(1.5)  # several of the child's poll intervals
        assert conn.execute("SELECT triage FROM alert WHERE id = %s", (aid,)).fetchone()[0] is None
    assert await _wait(conn, f"SELECT triage IS NOT NULL FROM alert WHERE id = '{aid}'", True)
    with triage.pause:
        second = await _post(pclient, integ, alert_doc(latitude=5.1))
    assert await triage.drain() in (0, 1)  # the child may have taken it as the pause ended
    assert conn.execute("SELECT triage IS NOT NULL FROM alert WHERE id = %s", (second,)
                        ).fetchone()[0] is True


async def test_a_dead_triage_process_is_replaced(process_app, pclient, auth, conn):
    triage = process_app.state.workers.triage
    integ = await make_integration(pclient, auth)
    first = triage.pid
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while triage.restarts == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert triage.restarts == 1 and triage.pid not in (None, first)
    aid = await _post(pclient, integ, alert_doc(text="after the restart"))
    assert await _wait(conn, f"SELECT triage IS NOT NULL FROM alert WHERE id = '{aid}'", True)


async def test_two_triage_processes_share_the_queue_and_triage_each_alert_once(app, settings, auth,
                                                                               conn):
    own = settings.model_copy(update={"alert_triage_process": True, "alert_triage_processes": 2,
                                      "alert_triage_poll_s": 0.2, "alert_triage_batch": 3})
    application = create_app(own)
    with app.state.alert_triage.pause:
        async with application.router.lifespan_context(application):
            triage = application.state.workers.triage
            assert len(set(triage.pids)) == 2
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                         base_url="http://kinga.test") as c:
                integ = await make_integration(c, auth)
                with triage.pause:  # a queue for both to share
                    ids = [await _post(c, integ, alert_doc(latitude=3.0 + 0.05 * i,
                                                           text=f"alert {i}"))
                           for i in range(30)]
                assert await _wait(conn, "SELECT count(*) FROM alert WHERE triage IS NULL", 0) == 0
    rows = conn.execute("SELECT triage->>'action', count(*) FROM alert GROUP BY 1").fetchall()
    assert dict(rows) == {"opened": 30}
    # one report per alert, none doubled
    assert conn.execute("SELECT count(*), count(DISTINCT incident_id) FROM report").fetchone() == (30, 30)
    assert len(ids) == 30


async def test_stopping_the_server_stops_the_triage_process(app, settings):
    own = settings.model_copy(update={"alert_triage_process": True})
    application = create_app(own)
    with app.state.alert_triage.pause:
        async with application.router.lifespan_context(application):
            pid = application.state.workers.triage.pid
            os.kill(pid, 0)  # alive
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = open(f"/proc/{entry}/stat").read()  # noqa: SIM115, PTH123
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]  # noqa: SIM115, PTH123
    except OSError:
        return False
    return state != "Z"


async def test_a_server_killed_outright_leaves_no_triage_process_behind(db_url, tmp_path):
    """SIGKILL gives the server no shutdown: its triage process notices it was orphaned and ends
    (it would otherwise keep triaging, with the old code, after the server was replaced)."""
    from tests.support.server import served_app

    with served_app(db_url, tmp_path / "uvicorn.log",
                    env={"KINGA_ALERT_TRIAGE_PROCESS": "true", "KINGA_ALERT_TRIAGE_POLL_S": "0.2"}
                    ) as (_base, proc):
        deadline = time.monotonic() + 60
        triage = []
        while not triage and time.monotonic() < deadline:
            triage = [c for c in _children(proc.pid)
                      if "spawn_main" in open(f"/proc/{c}/cmdline").read()]  # noqa: SIM115, PTH123
            await asyncio.sleep(0.1)
        assert triage, "the server started no triage process"
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 30
        while any(_alive(c) for c in triage) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not any(_alive(c) for c in triage)
