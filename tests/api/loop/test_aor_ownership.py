"""Ownership by area of responsibility: every warning, whatever raised it, is owned by the field
office (else the sector) whose area holds it, its on-scene target from that AOR's own base; only
where no AOR holds it does the nearest active base with capacity answer. The owner and why it
was chosen are on the warning, and so is the mission."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.services.planning.reach import haversine_km
from tests.conftest import incident_body
from tests.support.alerts import alert_doc, make_integration, post_alert
from tests.support.aors import (
    CAMP_ONE,
    CAMP_TWO,
    IN_FO_ONE,
    IN_FO_TWO,
    ONLY_SECTOR_EAST,
    OUTSIDE,
    SECTOR_WEST,
    make_mission,
)
from tests.support.loop import flash_body


def _km(a, b):
    return float(haversine_km(a[0], a[1], b[0], b[1]))


async def _flash(client, auth, at, role="analyst", **over):
    r = await client.post("/api/v1/warnings", json=flash_body(latitude=at[0], longitude=at[1], **over),
                          headers=auth(role))
    assert r.status_code == 201, r.text
    return r.json()


def _minutes(p, field):
    return (datetime.fromisoformat(p[field]) - datetime.fromisoformat(p["created_at"])).total_seconds() / 60


async def test_a_flash_warning_is_owned_by_the_field_office_whose_area_holds_it(client, auth):
    ids = await make_mission(client, auth)
    out = await _flash(client, auth, IN_FO_TWO)
    p = out["warning"]["properties"]
    # Camp One is nearer, but the place lies in FO Two's area: FO Two answers, from Camp Two.
    assert _km(IN_FO_TWO, CAMP_ONE) < _km(IN_FO_TWO, CAMP_TWO)
    assert out["assigned_to"] == "FO Two"
    assert (p["owner_reason"], p["owner_kind"], p["owner_aor_id"]) == ("aor", "field_office", ids["FO Two"])
    assert p["owner_id"] == ids["FO Two"] and p["owner_base"] == "Camp Two"
    assert p["owner_distance_km"] == pytest.approx(_km(IN_FO_TWO, CAMP_TWO), rel=0.01)
    assert p["mission_code"] == "unx"
    # the on-scene target is the owner's reach (Camp Two), not the nearest base's
    near = await _flash(client, auth, IN_FO_ONE)
    q = near["warning"]["properties"]
    assert (near["assigned_to"], q["owner_base"]) == ("FO One", "Camp One")
    assert _minutes(p, "on_scene_by") > _minutes(q, "on_scene_by")
    # acknowledgement deadlines are the urgency's, whoever owns the warning
    assert _minutes(p, "acknowledge_by") == pytest.approx(_minutes(q, "acknowledge_by")) \
        == pytest.approx(15)
    # response metrics per field office report by the owning office
    m = (await client.get("/api/v1/response-metrics", params={"by": "field_office"},
                          headers=auth("operations"))).json()
    assert [g["key"] for g in m["groups"]] == ["FO One", "FO Two"]


async def test_a_sector_owns_what_no_field_office_holds_and_a_base_what_no_aor_holds(client, auth):
    ids = await make_mission(client, auth)
    sector = (await _flash(client, auth, ONLY_SECTOR_EAST))["warning"]["properties"]
    assert (sector["assigned_to"], sector["owner_kind"], sector["owner_reason"]) == \
        ("Sector East", "sector", "aor")
    assert sector["owner_aor_id"] == ids["Sector East"] and sector["owner_base"] == "Camp One"
    # an AOR without a base of its own still owns it; the target comes from the nearest base
    west = (await _flash(client, auth, SECTOR_WEST))["warning"]["properties"]
    assert (west["assigned_to"], west["owner_reason"], west["owner_base"]) == \
        ("Sector West", "aor", "Camp One")
    assert west["on_scene_by"] is not None
    outside = (await _flash(client, auth, OUTSIDE))["warning"]["properties"]
    assert (outside["assigned_to"], outside["owner_kind"], outside["owner_reason"]) == \
        ("Camp Two", "base", "nearest_base")
    assert outside["owner_aor_id"] is None and outside["mission_code"] is None


async def test_without_aors_the_nearest_base_answers_as_before(client, auth):
    from tests.support.loop import make_base

    await make_base(client, auth, name="Camp One", latitude=CAMP_ONE[0], longitude=CAMP_ONE[1])
    p = (await _flash(client, auth, IN_FO_TWO))["warning"]["properties"]
    assert (p["assigned_to"], p["owner_reason"], p["owner_base"]) == ("Camp One", "nearest_base", "Camp One")


async def test_escalations_are_owned_by_their_aor(client, auth):
    ids = await make_mission(client, auth)
    integ = await make_integration(client, auth)
    alert = (await post_alert(client, integ, alert_doc(
        text="Armed men threatened traders", latitude=IN_FO_TWO[0], longitude=IN_FO_TWO[1]))).json()["id"]
    r = await client.post(f"/api/v1/alerts/{alert}/escalate", headers=auth("operations"))
    assert r.status_code == 201, r.text
    p = r.json()["warning"]["properties"]
    assert (r.json()["assigned_to"], p["owner_aor_id"], p["owner_reason"]) == ("FO Two", ids["FO Two"], "aor")
    incident = (await client.post("/api/v1/incidents", json=incident_body(
        latitude=ONLY_SECTOR_EAST[0], longitude=ONLY_SECTOR_EAST[1]), headers=auth("analyst"))).json()["id"]
    r = await client.post(f"/api/v1/incidents/{incident}/escalate", headers=auth("analyst"))
    assert r.status_code == 201, r.text
    assert r.json()["assigned_to"] == "Sector East"


async def test_a_rule_raised_alert_warning_is_owned_by_its_aor(client, auth, conn):
    await make_mission(client, auth)
    integ = await make_integration(client, auth)
    await post_alert(client, integ, alert_doc(category="sexual_violence", latitude=IN_FO_ONE[0],
                                              longitude=IN_FO_ONE[1]))
    row = conn.execute("SELECT rule, assigned_to, owner_reason, mission_code FROM warning").fetchall()
    conn.commit()
    assert row == [("sexual_violence", "FO One", "aor", "unx")]


@pytest.mark.parametrize("precision_decay", [True, False])  # its own layer / the server's, clipped
async def test_the_rule_scan_runs_per_mission_and_tags_its_warnings(app, client, auth, conn,
                                                                     precision_decay):
    from tests.api.loop.test_rule_scan import _critical, _scan

    ids = await make_mission(client, auth, precision_decay=precision_decay)
    await _critical(client, auth, 6.0, 22.4)  # in FO Two, by Camp Two
    await _critical(client, auth, *OUTSIDE)  # in no mission
    assert await _scan(app) == 2
    rows = conn.execute("SELECT mission_code, assigned_to, owner_reason, owner_aor_id::text "
                        "FROM warning WHERE rule = 'threat_level' ORDER BY mission_code").fetchall()
    conn.commit()
    assert rows == [("unx", "FO Two", "aor", ids["FO Two"]), (None, "Camp Two", "nearest_base", None)]
    listed = (await client.get("/api/v1/warnings", params={"mission": "unx"},
                               headers=auth("analyst"))).json()["features"]
    assert [(f["properties"]["rule"], f["properties"]["mission_code"]) for f in listed] == \
        [("threat_level", "unx")]
    everything = (await client.get("/api/v1/warnings", headers=auth("analyst"))).json()["features"]
    assert len(everything) == 2
    assert await _scan(app) == 0  # incremental: nothing changed


async def test_a_mission_listing_leaves_out_another_missions_warnings(client, auth, conn):
    await make_mission(client, auth)
    theirs = (await _flash(client, auth, IN_FO_ONE))["id"]
    ours = (await _flash(client, auth, IN_FO_TWO))["id"]
    # a warning raised in another mission whose area overlaps this one's
    conn.execute("INSERT INTO mission (code, name, area, timezone, created_by) SELECT 'uny', 'Y', "
                 "area, timezone, 'test' FROM mission WHERE code = 'unx'")
    conn.execute("UPDATE warning SET mission_code = 'uny' WHERE id = %s", (theirs,))
    conn.commit()
    listed = (await client.get("/api/v1/warnings", params={"mission": "unx"},
                               headers=auth("analyst"))).json()["features"]
    assert [f["id"] for f in listed] == [ours]


async def test_a_scans_owner_cache_gives_the_same_owners_as_the_queries(app, client, auth):
    """The rule scan reads AORs and bases once per run; every point gets the owner the
    per-warning queries give (AOR or base, reach base, distance)."""
    from datetime import date

    from app.services.warnings.ownership import OwnerCache, assign_owner

    await make_mission(client, auth)
    points = [IN_FO_TWO, IN_FO_ONE, ONLY_SECTOR_EAST, SECTOR_WEST, OUTSIDE, CAMP_ONE, CAMP_TWO,
              (7.99, 20.01), (3.0, 18.0), (5.0, 21.0)]
    settings = app.state.settings
    async with app.state.sessionmaker() as session:
        cache = OwnerCache()
        for lat, lon in points:
            for mission in (None, "unx"):
                plain = await assign_owner(session, settings, lon, lat, on=date.today(), mission=mission)
                cached = await assign_owner(session, settings, lon, lat, on=date.today(),
                                            mission=mission, cache=cache)
                assert cached == plain, (lat, lon, mission)
        assert plain.reason == "aor"  # (5.0, 21.0): on the FO One / FO Two boundary, still an AOR
