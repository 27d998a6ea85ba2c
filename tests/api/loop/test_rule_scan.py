"""The scheduler's rule scan: incremental from the incident change log (a cell that did not change
is not re-evaluated until the next full scan), full when the log no longer reaches back, the
sexual-violence rule on staff-recorded incidents, never a warning for a past date, and exactly
once across a crash before its commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.services.warnings import rule_scan
from tests.conftest import incident_body
from tests.support.alerts import alert_doc, make_integration, post_alert


def _recent(hours=2):
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


async def _incident(client, auth, hours=2, **over):
    body = incident_body(occurred_start=_recent(hours), **over)
    r = await client.post("/api/v1/incidents", json=body, headers=auth("analyst"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _critical(client, auth, lat, lon, n=10):
    # distinct events (four days apart: beyond triangulation's candidate gate), not ten accounts
    # of one event
    for i in range(n):
        await _incident(client, auth, hours=2 + 96 * i, latitude=lat + i * 0.001, longitude=lon,
                        fatalities_best=5)


def _warnings(conn, rule=None):
    sql = "SELECT rule, source, h3_cell, incident_ids FROM warning"
    rows = conn.execute(sql + (" WHERE rule = %s" if rule else "") + " ORDER BY created_at",
                        (rule,) if rule else ()).fetchall()
    conn.commit()  # hold no snapshot or lock across the app's next request
    return rows


async def _scan(app):
    return await app.state.workers.scheduler.run_job("warnings.rule_scan")


async def test_a_staff_sexual_violence_incident_raises_a_warning_once(app, client, auth, conn):
    await _scan(app)
    iid = await _incident(client, auth, category="sexual_violence", crsv_survivors=1)
    imported = await _incident(client, auth, category="sexual_violence", latitude=6.5, longitude=21.9)
    conn.execute("UPDATE incident SET external_source = 'acled', external_id = 'X1' WHERE id = %s",
                 (imported,))
    conn.commit()  # the UPDATE's row and version locks must not outlive it
    old = (await client.post("/api/v1/incidents", json=incident_body(
        category="sexual_violence", latitude=7.0, longitude=19.2,
        occurred_start=(datetime.now(UTC) - timedelta(days=30)).isoformat()),
        headers=auth("analyst"))).json()["id"]
    conn.commit()
    assert await _scan(app) == 1
    [(rule, source, _, incidents)] = _warnings(conn, "sexual_violence")
    assert (rule, source) == ("sexual_violence", "incident") and [str(i) for i in incidents] == [iid]
    assert old not in [str(i) for i in incidents]
    assert await _scan(app) == 0  # already held by a warning


async def test_an_alert_opened_incident_is_left_to_the_alert_rule(app, client, auth, conn):
    await _scan(app)
    integ = await make_integration(client, auth)
    await post_alert(client, integ, alert_doc(category="sexual_violence", observed_at=_recent()))
    assert len(_warnings(conn)) == 1
    assert await _scan(app) == 0
    assert len(_warnings(conn)) == 1


async def test_the_scan_is_incremental_from_the_change_log(app, client, auth, conn):
    await _critical(client, auth, 5.76, 20.67)
    assert await _scan(app) == 1  # first run: full
    assert [r[0] for r in _warnings(conn)] == ["threat_level"]
    state = conn.execute("SELECT version FROM rule_scan_state").fetchone()[0]
    assert state == conn.execute("SELECT version FROM data_version").fetchone()[0]
    # The warning disappears behind the scan's back (as if it had never been raised) ...
    conn.execute("DELETE FROM warning")
    conn.commit()
    assert await _scan(app) == 0  # ... nothing changed: nothing re-evaluated, nothing written
    # A new critical cell elsewhere: only the changed cell is evaluated.
    await _critical(client, auth, 7.0, 19.2)
    assert await _scan(app) == 1
    [(_, _, cell, _)] = _warnings(conn)
    import h3
    assert h3.cell_to_parent(h3.int_to_str(cell), 6) == h3.latlng_to_cell(7.0, 19.2, 6) or \
        h3.cell_to_parent(h3.latlng_to_cell(7.0, 19.2, 7), 6) == h3.cell_to_parent(h3.int_to_str(cell), 6)
    # The full scan (daily) finds the cell that did not change.
    conn.execute("UPDATE rule_scan_state SET full_at = now() - interval '2 days'")
    conn.commit()
    assert await _scan(app) == 1
    assert len(_warnings(conn, "threat_level")) == 2
    assert await _scan(app) == 0


async def test_a_log_that_no_longer_reaches_back_forces_a_full_scan(app, client, auth, conn):
    await _critical(client, auth, 5.76, 20.67)
    assert await _scan(app) == 1
    conn.execute("DELETE FROM warning")
    conn.commit()
    await _incident(client, auth, latitude=7.5, longitude=18.0)  # changes one far cell
    conn.execute("UPDATE data_version SET log_since = version")  # e.g. a large import batch
    conn.commit()
    assert await _scan(app) == 1  # the unchanged critical cell, found by the full scan


async def test_a_cell_staying_critical_gives_one_warning_per_lifetime(app, client, auth, conn):
    await _critical(client, auth, 5.76, 20.67)
    assert await _scan(app) == 1
    [wid] = [r[0] for r in conn.execute("SELECT id FROM warning").fetchall()]
    r = await client.post(f"/api/v1/warnings/{wid}/status", json={"status": "cancelled", "reason": "seen"},
                          headers=auth("operations"))
    assert r.status_code == 200
    await _incident(client, auth, latitude=5.7605, longitude=20.67, fatalities_best=3)
    conn.execute("UPDATE rule_scan_state SET full_at = now() - interval '2 days'")
    conn.commit()
    assert await _scan(app) == 0


async def test_a_crash_before_the_scan_commits_leaves_nothing_and_the_next_run_does_it_once(
        app, client, auth, conn, settings):
    await _incident(client, auth, category="sexual_violence")
    await _critical(client, auth, 5.76, 20.67)
    async with app.state.sessionmaker() as session:  # the job's work, then the process dies
        raised = await rule_scan.scan_job(session, settings, datetime.now(UTC))
        assert raised >= 2
        await session.rollback()
    assert _warnings(conn) == [] and conn.execute("SELECT count(*) FROM rule_scan_state").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM webhook_delivery").fetchone()[0] == 0
    assert await _scan(app) == raised
    assert await _scan(app) == 0
    assert len(_warnings(conn)) == raised


async def test_no_warning_is_ever_raised_for_a_past_date(app, client, auth, conn):
    for i in range(10):  # distinct events, four days apart
        start = datetime(2024, 3, 2, 21, tzinfo=UTC) - timedelta(days=4 * i)
        await client.post("/api/v1/incidents", json=incident_body(
            occurred_start=start.isoformat(), latitude=5.76 + i * 0.001, longitude=20.67,
            fatalities_best=5), headers=auth("analyst"))
    r = await client.post("/api/v1/warnings/scan?as_of=2024-03-05", headers=auth("analyst"))
    assert r.status_code == 200 and r.json()["historical"] is True
    assert r.json()["raised"] == [] and r.json()["would_raise"][0]["rule"] == "threat_level"
    assert _warnings(conn) == []
    assert await _scan(app) == 0  # the scheduler scans now: those incidents are long past
    assert _warnings(conn) == []
