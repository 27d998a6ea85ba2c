"""Response metrics and impact within a token's need to know: an operations or analyst token
limited to an area of responsibility counts only that AOR's warnings (and its children's), the
responses to them, the alerts located in it and its offices' patrols, in every grouping; an
unscoped token's figures differ from it exactly by the other AOR's records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.loop.test_patrol_deconfliction import _saved, _world
from tests.support.aors import aor_token
from tests.support.loop import flash_body, writes

T0 = datetime(2024, 3, 12, 8, tzinfo=UTC)
IN_ONE_ONLY = (5.80, 20.20)  # FO One (20-21), not FO Three (20.5-21.5)
IN_THREE_ONLY = (5.80, 21.30)
IMPACT = {"start": "2024-02-01T00:00:00Z", "end": "2024-04-30T00:00:00Z"}
GROUPS = ("field_office", "month", "rule", "severity", "source")


def _iso(t):
    return t.isoformat()


async def _closed_response(client, auth, conn, at, delay_reason):
    admin = auth("admin")
    r = await client.post("/api/v1/warnings", headers=admin,
                          json=flash_body(latitude=at[0], longitude=at[1]))
    assert r.status_code == 201, r.text
    wid = r.json()["id"]
    conn.execute("UPDATE warning SET created_at = %s WHERE id = %s", (T0, wid))
    conn.commit()
    r = await client.post(f"/api/v1/warnings/{wid}/responses", headers=admin, json={
        "type": "patrol", "unit": "Coy", "mode": "road", "people": 20,
        "acknowledged_at": _iso(T0 + timedelta(minutes=5)),
        "dispatched_at": _iso(T0 + timedelta(minutes=30)), "delay_reasons": [delay_reason]})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = await client.patch(f"/api/v1/warnings/{wid}/responses/{rid}", headers=admin, json={
        "on_scene_at": _iso(T0 + timedelta(hours=2)),
        "completed_at": _iso(T0 + timedelta(hours=3)), "outcome": "deterred"})
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/warnings/{wid}/status", headers=admin,
                          json={"status": "closed", "outcome": "deterred"})
    assert r.status_code == 200, r.text
    return wid


async def _report(client, auth, plan):
    task = plan["tasks"][0]["id"]
    r = await client.post(f"/api/v1/patrol-plans/{plan['id']}/tasks/{task}/report",
                          headers=auth("operations"),
                          json={"status": "done", "started_at": "2024-03-11T18:00:00Z"})
    assert r.status_code == 201, r.text


@pytest.fixture
async def world(client, auth, settings, conn):
    await _world(client, auth)
    aors = {a["name"]: a["id"] for a in (await client.get(
        "/api/v1/missions/unx/aors", headers=auth("admin"))).json()["items"]}
    one = await _closed_response(client, auth, conn, IN_ONE_ONLY, "no_air_asset")
    three = await _closed_response(client, auth, conn, IN_THREE_ONLY, "weather_season")
    plan_one = await _saved(client, auth, "FO One")
    plan_three = await _saved(client, auth, "FO Three")
    for plan in (plan_one, plan_three):
        await _report(client, auth, plan)
    return {"one": one, "three": three, "plan_one": plan_one, "plan_three": plan_three,
            "ops_one": aor_token(settings, "fo-one-ops", aors["FO One"]),
            "analyst_one": aor_token(settings, "fo-one-analyst", aors["FO One"], role="analyst"),
            "ops_three": aor_token(settings, "fo-three-ops", aors["FO Three"])}


async def _metrics(client, headers, **params):
    r = await client.get("/api/v1/response-metrics", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_metrics_of_an_aor_token_leave_out_exactly_the_other_aors_records(
        client, auth, world, conn):
    before = writes(conn)
    everyone = await _metrics(client, auth("operations"))
    one = await _metrics(client, world["ops_one"])
    three = await _metrics(client, world["ops_three"])
    assert writes(conn) == before
    assert (everyone["warnings"], one["warnings"], three["warnings"]) == (2, 1, 1)
    assert one["delay_reasons"] == {"no_air_asset": 1}
    assert three["delay_reasons"] == {"weather_season": 1}
    assert everyone["delay_reasons"] == {"no_air_asset": 1, "weather_season": 1}
    tasks_one, tasks_three = len(world["plan_one"]["tasks"]), len(world["plan_three"]["tasks"])
    assert everyone["patrol_execution"]["planned"] == tasks_one + tasks_three
    assert one["patrol_execution"]["planned"] == tasks_one
    assert three["patrol_execution"]["planned"] == tasks_three
    assert (one["patrol_execution"]["done"], everyone["patrol_execution"]["done"]) == (1, 2)
    for key in ("time_to_acknowledge", "time_to_dispatch", "time_to_arrive"):
        assert everyone[key]["n"] - one[key]["n"] == three[key]["n"] == 1
    assert one["window"]["aor_id"] is not None and everyone["window"]["aor_id"] is None
    # the analyst's AOR token counts the same as the operations one
    assert (await _metrics(client, world["analyst_one"]))["warnings"] == 1
    for by in GROUPS:
        groups = {g["key"]: g["warnings"] for g in (await _metrics(client, world["ops_one"],
                                                                   by=by))["groups"]}
        whole = {g["key"]: g["warnings"] for g in (await _metrics(client, auth("operations"),
                                                                  by=by))["groups"]}
        assert sum(groups.values()) == 1 and sum(whole.values()) == 2, by
        if by == "field_office":
            assert groups == {"FO One": 1} and whole == {"FO One": 1, "FO Three": 1}


async def test_patrol_execution_of_an_aor_token_counts_its_offices_tasks_only(client, auth, world):
    async def execution(headers):
        r = await client.get("/api/v1/patrol-execution", headers=headers, params={"by": "base"})
        assert r.status_code == 200, r.text
        return r.json()

    tasks_one, tasks_three = len(world["plan_one"]["tasks"]), len(world["plan_three"]["tasks"])
    everyone, one, three = (await execution(auth("operations")), await execution(world["ops_one"]),
                            await execution(world["ops_three"]))
    assert everyone["total"]["planned"] == tasks_one + tasks_three
    assert (one["total"]["planned"], three["total"]["planned"]) == (tasks_one, tasks_three)
    assert (one["total"]["done"], three["total"]["done"], everyone["total"]["done"]) == (1, 1, 2)
    assert sum(g["planned"] for g in one["groups"]) == tasks_one


async def test_alerts_and_acknowledgements_count_where_the_alert_is(client, auth, world, conn):
    """Alerts with no warning after 24 h count in the AOR that holds their location."""
    from tests.support.alerts import alert_doc, make_integration, post_alert

    integ = await make_integration(client, auth)
    for at in (IN_ONE_ONLY, IN_THREE_ONLY, IN_THREE_ONLY):
        r = await post_alert(client, integ, alert_doc(category="looting_destruction", latitude=at[0] + 0.3,
                                                      longitude=at[1]))
        assert r.status_code == 201, r.text
    conn.execute("UPDATE alert SET received_at = now() - interval '2 days'")
    conn.commit()
    everyone = (await _metrics(client, auth("operations")))["alerts_without_warning_or_dismissal_24h"]
    one = (await _metrics(client, world["ops_one"]))["alerts_without_warning_or_dismissal_24h"]
    assert (everyone["of"], one["of"]) == (3, 1)
    assert everyone["count"] - one["count"] == 2


async def test_impact_of_an_aor_token_shows_its_treatments_with_the_same_figures(
        client, auth, world):
    r = await client.get("/api/v1/impact", params=IMPACT, headers=auth("operations"))
    assert r.status_code == 200, r.text
    everyone = r.json()
    r = await client.get("/api/v1/impact", params=IMPACT, headers=world["ops_one"])
    assert r.status_code == 200, r.text
    one = r.json()

    def key(e):
        return e.get("warning_id") or f"{e.get('plan_id')}/{e.get('task_id')}"

    all_events = {key(e): e for e in everyone["events"]}
    mine = {key(e): e for e in one["events"]}
    theirs = {world["three"], f"{world['plan_three']['id']}/{world['plan_three']['tasks'][0]['id']}"}
    assert set(all_events) - set(mine) == theirs
    assert set(mine) == {world["one"],
                         f"{world['plan_one']['id']}/{world['plan_one']['tasks'][0]['id']}"}
    for k, e in mine.items():
        assert e == all_events[k]  # the same comparison cells and figures
    assert one["treatments"] == {"responses": 1, "patrols": 1, "measured": 2}
    assert everyone["treatments"]["responses"] == 2 and everyone["treatments"]["patrols"] == 2
    r = await client.get("/api/v1/impact", params=IMPACT, headers=world["analyst_one"])
    assert {key(e) for e in r.json()["events"]} == set(mine)
