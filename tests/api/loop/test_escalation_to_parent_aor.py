"""Overdue escalation climbs the areas of responsibility: a warning owned by a field office goes to
its parent sector at the first missed deadline and to the mission's headquarters at the second;
the warning records where it went (`escalated_to`), the subscriptions scoped to that AOR hear it
(a fake receiver on loopback), and the sector's operations token sees and acts on it. A warning
without an AOR owner keeps the level escalation. A restart between claim and commit neither
duplicates nor drops an escalation or its delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.main import create_app
from app.repositories import warnings as warning_repo
from app.services.warnings import overdue, webhooks
from tests.support.aors import AORS, IN_FO_TWO, ONLY_SECTOR_EAST, OUTSIDE, aor_token, make_mission
from tests.support.loop import FakeGateway, flash_body


async def _subscribe(client, auth, url, **scope):
    r = await client.post("/api/v1/warnings/subscriptions", headers=auth("admin"),
                          json={"name": url.rsplit("/", 1)[-1], "url": url, **scope})
    assert r.status_code == 201, r.text
    return r.json()


async def _flash(client, auth, at):
    r = await client.post("/api/v1/warnings", headers=auth("admin"),
                          json=flash_body(latitude=at[0], longitude=at[1]))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _late(conn, wid, deadline):
    conn.execute(f"UPDATE warning SET {deadline} = now() - interval '1 minute' WHERE id = %s",
                 (wid,))
    conn.commit()


async def _ids(client, headers):
    r = await client.get("/api/v1/warnings", headers=headers)
    assert r.status_code == 200, r.text
    return {f["id"] for f in r.json()["features"]}


def _paths(gw, event="warning.escalated"):
    return sorted(r.path for r in gw.of(event))


async def test_an_overdue_field_office_warning_goes_to_its_sector_then_headquarters(
        app, client, auth, conn, settings, monkeypatch):
    monkeypatch.setattr(settings, "webhook_allow_private_targets", True)
    workers = app.state.workers
    await workers.scheduler.stop()  # the job is run by hand below
    gw = FakeGateway().start()
    try:
        ids = await make_mission(client, auth)
        sub = await _subscribe(client, auth, f"{gw.url}/sector-east", mission="unx",
                               aor="Sector East")
        assert sub["aor"] == {"id": ids["Sector East"], "name": "Sector East", "kind": "sector",
                              "mission_code": "unx"} and sub["level"] == 0
        await _subscribe(client, auth, f"{gw.url}/sector-west", mission="unx", aor="sector west")
        await _subscribe(client, auth, f"{gw.url}/fo-one", mission="unx", aor=ids["FO One"])
        await _subscribe(client, auth, f"{gw.url}/fo-two", mission="unx", aor="FO Two")
        await _subscribe(client, auth, f"{gw.url}/all")
        await _subscribe(client, auth, f"{gw.url}/l1", level=1)
        await _subscribe(client, auth, f"{gw.url}/l2", level=2)
        wid = await _flash(client, auth, IN_FO_TWO)
        base_owned = await _flash(client, auth, OUTSIDE)
        await workers.webhooks.drain()
        # warning.created: every-event subscribers and the owning office's, nobody else
        assert _paths(gw, "warning.created") == ["/all", "/all", "/fo-two"]
        sector = aor_token(settings, "sector-east-ops", ids["Sector East"])
        sibling = aor_token(settings, "fo-one-ops", ids["FO One"])
        west = aor_token(settings, "sector-west-ops", ids["Sector West"])

        _late(conn, wid, "acknowledge_by")
        _late(conn, base_owned, "acknowledge_by")
        assert await workers.scheduler.run_job("warnings.overdue") == 2
        assert await workers.scheduler.run_job("warnings.overdue") == 0  # each deadline once
        await workers.webhooks.drain()
        got = {r.path: r.json for r in gw.of("warning.escalated")
               if r.json["warning"]["id"] == wid}
        assert sorted(got) == ["/all", "/fo-two", "/l1", "/sector-east"]
        props = got["/sector-east"]["warning"]["properties"]
        assert props["escalation_level"] == 1
        assert props["escalated_to"] == {"id": ids["Sector East"], "name": "Sector East",
                                         "kind": "sector"}
        # the nearest-base warning keeps the level escalation: no AOR hears it
        assert sorted(r.path for r in gw.of("warning.escalated")
                      if r.json["warning"]["id"] == base_owned) == ["/all", "/l1"]
        r = await client.get(f"/api/v1/warnings/{base_owned}", headers=auth("operations"))
        assert r.json()["properties"]["escalated_to"] is None
        assert r.json()["properties"]["escalation_level"] == 1
        # listing and detail show where it went
        listed = {f["id"]: f for f in (await client.get("/api/v1/warnings?overdue=true",
                                                        headers=sector)).json()["features"]}
        assert listed[wid]["properties"]["escalated_to"]["name"] == "Sector East"
        detail = (await client.get(f"/api/v1/warnings/{wid}", headers=sector)).json()
        assert detail["properties"]["escalated_to"]["id"] == ids["Sector East"]
        assert wid not in await _ids(client, sibling) and wid not in await _ids(client, west)

        # The offices are reorganised: FO Two now answers to Sector West. The escalation already
        # sent to Sector East stays with it (Sector West now sees it as the owner's sector).
        moved = [{**a, "parent": "Sector West"} if a["name"] == "FO Two" else a for a in AORS]
        r = await client.post("/api/v1/missions/unx/aors", json={"aors": moved},
                              headers=auth("admin"))
        assert r.status_code == 201, r.text
        assert wid in await _ids(client, sector) and wid in await _ids(client, west)
        # the sector acts on it: acknowledges and answers (its FO One sibling may not)
        r = await client.post(f"/api/v1/warnings/{wid}/status", json={"status": "acknowledged"},
                              headers=sibling)
        assert r.status_code == 403
        r = await client.post(f"/api/v1/warnings/{wid}/status", json={"status": "acknowledged"},
                              headers=sector)
        assert r.status_code == 200, r.text
        r = await client.post(f"/api/v1/warnings/{wid}/responses", headers=sector,
                              json={"type": "patrol", "unit": "Sector East QRF"})
        assert r.status_code == 201, r.text

        # Nobody on scene by the target: level 2 goes one step further up (the new parent,
        # Sector West, has no parent): the mission's headquarters.
        _late(conn, wid, "on_scene_by")
        assert await workers.scheduler.run_job("warnings.overdue") == 1
        await workers.webhooks.drain()
        second = {r.path: r.json for r in gw.of("warning.escalated")
                  if r.json["warning"]["properties"]["escalation_level"] == 2}
        assert sorted(second) == ["/all", "/fo-two", "/l2"]
        assert second["/l2"]["warning"]["properties"]["escalated_to"] == {
            "id": None, "name": settings.escalation_level_names[-1], "kind": "mission"}
        row = conn.execute("SELECT escalation_level, escalated_to_aor_id, escalated_to_kind "
                           "FROM warning WHERE id = %s", (wid,)).fetchone()
        assert row == (2, None, "mission")
        # At headquarters, the sector token no longer holds it; the owner's sector still does.
        assert wid not in await _ids(client, sector) and wid in await _ids(client, west)
        audit = conn.execute("SELECT after->>'to' FROM audit_event WHERE action = 'escalate' "
                             "AND object_id = %s ORDER BY id", (wid,)).fetchall()
        assert [a[0] for a in audit] == ["Sector East", settings.escalation_level_names[-1]]
    finally:
        workers.scheduler.start(app.state.sessionmaker)
        gw.stop()


async def test_a_field_office_without_a_sector_and_a_sector_owner_escalate_to_headquarters(
        app, client, auth, conn, settings):
    """The chain ends at once: level 1 is the mission's headquarters."""
    await app.state.workers.scheduler.stop()
    try:
        await make_mission(client, auth)
        wid = await _flash(client, auth, ONLY_SECTOR_EAST)
        _late(conn, wid, "acknowledge_by")
        assert await app.state.workers.scheduler.run_job("warnings.overdue") == 1
        w = (await client.get(f"/api/v1/warnings/{wid}", headers=auth("operations"))).json()
        assert w["properties"]["owner_kind"] == "sector"
        assert w["properties"]["escalated_to"]["kind"] == "mission"
    finally:
        app.state.workers.scheduler.start(app.state.sessionmaker)


def test_the_target_of_each_level_climbs_the_chain_then_stops_at_headquarters(settings):
    chain = [{"id": "s", "name": "Sector", "kind": "sector"},
             {"id": "r", "name": "Region", "kind": "sector"}]
    assert overdue.target(chain, 1, settings)["id"] == "s"
    assert overdue.target(chain, 2, settings)["id"] == "r"
    assert overdue.target(chain, 3, settings) == {"id": None, "kind": "mission",
                                                  "name": settings.escalation_level_names[-1]}
    assert overdue.target([], 1, settings)["kind"] == "mission"


async def test_a_restart_between_claim_and_commit_neither_duplicates_nor_drops_the_escalation(
        app, client, auth, conn, settings, monkeypatch):
    """A server marks the missed deadline (its claim) and dies before committing: nothing is left;
    the restarted server's scheduler escalates it once. Then a server claims the escalation's
    delivery (lease committed) and dies before sending: the next one sends it exactly once."""
    monkeypatch.setattr(settings, "webhook_allow_private_targets", True)
    workers = app.state.workers
    await workers.scheduler.stop()
    gw = FakeGateway().start()
    try:
        ids = await make_mission(client, auth)
        await _subscribe(client, auth, f"{gw.url}/sector-east", mission="unx", aor="Sector East")
        wid = await _flash(client, auth, IN_FO_TWO)
        _late(conn, wid, "acknowledge_by")
        await workers.webhooks.stop()  # this server sends nothing from here on
        async with app.state.sessionmaker() as session:  # the job runs, then the process dies
            assert await overdue.escalate_overdue(session, settings, datetime.now(UTC)) == 1
            await session.rollback()
        assert conn.execute("SELECT escalation_level, escalated_to FROM warning WHERE id = %s",
                            (wid,)).fetchone() == (0, None)
        assert conn.execute("SELECT count(*) FROM webhook_delivery WHERE event = "
                            "'warning.escalated'").fetchone()[0] == 0
        conn.commit()
        restarted = create_app(settings)
        async with restarted.router.lifespan_context(restarted):
            await restarted.state.workers.scheduler.stop()
            await restarted.state.workers.webhooks.stop()
            maker = restarted.state.sessionmaker
            assert await restarted.state.workers.scheduler.run_job("warnings.overdue") == 1
            assert await restarted.state.workers.scheduler.run_job("warnings.overdue") == 0
            now = datetime.now(UTC)
            async with maker() as session:  # a dispatcher claims the delivery, then dies
                claimed = await warning_repo.claim_due(session, now, now + timedelta(minutes=5))
                await session.commit()
            assert [c["event"] for c in claimed] == ["warning.escalated"]
            assert await webhooks.deliver_due(maker, settings) == 0  # leased: not yet
            conn.execute("UPDATE webhook_delivery SET next_attempt_at = now() - interval '1 s'")
            conn.commit()
            assert await webhooks.deliver_due(maker, settings) == 1
            assert await webhooks.deliver_due(maker, settings) == 0
        [got] = gw.of("warning.escalated")
        assert got.path == "/sector-east"
        assert got.json["warning"]["properties"]["escalated_to"]["id"] == ids["Sector East"]
        assert conn.execute("SELECT escalation_level, escalated_to FROM warning WHERE id = %s",
                            (wid,)).fetchone() == (1, "Sector East")
        assert conn.execute("SELECT status, attempt_count FROM webhook_delivery WHERE event = "
                            "'warning.escalated'").fetchall() == [("delivered", 1)]
    finally:
        workers.webhooks.start()
        workers.scheduler.start(app.state.sessionmaker)
        gw.stop()


async def test_bad_subscriptions_are_refused_and_nothing_is_written(client, auth, conn):
    await make_mission(client, auth)
    before = conn.execute("SELECT (SELECT count(*) FROM webhook_subscription), "
                          "(SELECT count(*) FROM audit_event)").fetchone()
    conn.commit()
    url = "https://hooks.example.org/kinga"
    cases = [
        ({"aor": "FO Nowhere", "mission": "unx"}, 422, "/body/aor"),
        ({"aor": "FO Two", "mission": "nope"}, 422, "/body/mission"),
        ({"mission": "unx"}, 422, "/body/aor"),
        ({"aor": "FO Two", "mission": "unx", "level": 1}, 422, "/body/level"),
    ]
    for extra, status, pointer in cases:
        r = await client.post("/api/v1/warnings/subscriptions", headers=auth("admin"),
                              json={"name": "x", "url": url, **extra})
        assert r.status_code == status, (extra, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert pointer in [e["pointer"] for e in r.json()["errors"]], r.json()
    assert conn.execute("SELECT (SELECT count(*) FROM webhook_subscription), "
                        "(SELECT count(*) FROM audit_event)").fetchone() == before
