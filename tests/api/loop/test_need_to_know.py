"""Need to know for operations: a token limited to an area of responsibility lists, reads,
acknowledges and responds only to the warnings its AOR owns (a sector's: its field offices' too);
another AOR's warning, or one no AOR owns, is absent from its lists and refused with 403
problem+json on the action routes, with nothing written. Unscoped operations tokens see all."""

from __future__ import annotations

import pytest

from tests.support.aors import IN_FO_ONE, IN_FO_TWO, OUTSIDE, aor_token, make_mission
from tests.support.loop import flash_body


async def _flash(client, auth, at):
    r = await client.post("/api/v1/warnings", json=flash_body(latitude=at[0], longitude=at[1]),
                          headers=auth("admin"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture
async def world(client, auth, settings):
    ids = await make_mission(client, auth)
    w = {"two": await _flash(client, auth, IN_FO_TWO), "one": await _flash(client, auth, IN_FO_ONE),
         "outside": await _flash(client, auth, OUTSIDE)}
    return {"warnings": w,
            "fo_two": aor_token(settings, "fo-two-ops", ids["FO Two"]),
            "sector": aor_token(settings, "sector-east-ops", ids["Sector East"]),
            "fo_two_analyst": aor_token(settings, "fo-two-analyst", ids["FO Two"], role="analyst")}


def _writes(conn):
    row = conn.execute("SELECT (SELECT count(*) FROM warning_response), "
                       "(SELECT string_agg(status || escalation_level, ',' ORDER BY id) FROM warning), "
                       "(SELECT count(*) FROM audit_event)").fetchone()
    conn.commit()
    return row


async def _ids(client, headers, **params):
    r = await client.get("/api/v1/warnings", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return {f["id"] for f in r.json()["features"]}


async def test_lists_hold_only_the_tokens_aor(client, auth, world):
    w = world["warnings"]
    assert await _ids(client, world["fo_two"]) == {w["two"]}
    assert await _ids(client, world["fo_two"], overdue="false") == {w["two"]}
    assert await _ids(client, world["sector"]) == {w["two"], w["one"]}  # its field offices'
    assert await _ids(client, auth("operations")) == set(w.values())  # unscoped: everything
    feed = (await client.get("/api/v1/warnings/feed", headers=world["fo_two"])).text
    assert w["two"] in feed and w["one"] not in feed and w["outside"] not in feed


async def test_the_tokens_own_warning_can_be_acknowledged_and_answered(client, world):
    wid = world["warnings"]["two"]
    r = await client.post(f"/api/v1/warnings/{wid}/status", json={"status": "acknowledged"},
                          headers=world["fo_two"])
    assert r.status_code == 200 and r.json()["properties"]["status"] == "acknowledged"
    r = await client.post(f"/api/v1/warnings/{wid}/responses", json={"type": "patrol", "unit": "Coy B"},
                          headers=world["fo_two"])
    assert r.status_code == 201, r.text
    r = await client.get(f"/api/v1/warnings/{wid}", headers=world["fo_two"])
    assert r.status_code == 200 and len(r.json()["properties"]["responses"]) == 1


async def test_other_roles_with_an_aor_token_keep_the_area_clip(client, world):
    # need to know by ownership is the operations rule; an analyst's AOR token is clipped by area
    w = world["warnings"]
    assert await _ids(client, world["fo_two_analyst"]) == {w["two"]}
    r = await client.get(f"/api/v1/warnings/{w['one']}", headers=world["fo_two_analyst"])
    assert r.status_code == 200


async def test_kinga_token_create_limits_a_token_to_an_aor(client, auth, settings, monkeypatch):
    from typer.testing import CliRunner

    from app.cli.main import cli
    from app.settings import get_settings

    await make_mission(client, auth)
    two = await _flash(client, auth, IN_FO_TWO)
    await _flash(client, auth, IN_FO_ONE)
    monkeypatch.setenv("KINGA_DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("KINGA_TOKEN_PEPPER", settings.token_pepper.get_secret_value())
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        r = runner.invoke(cli, ["token", "create", "--role", "operations", "--name", "fo2",
                                "--mission", "unx", "--aor", "fo two"])
        assert r.exit_code == 0, r.output
        token = r.output.strip().splitlines()[-1]
        bad = runner.invoke(cli, ["token", "create", "--role", "operations", "--name", "x",
                                  "--mission", "unx", "--aor", "FO Nowhere"])
        assert bad.exit_code == 1 and "FO Nowhere" in bad.output
        bad = runner.invoke(cli, ["token", "create", "--role", "operations", "--name", "x",
                                  "--aor", "FO Two"])
        assert bad.exit_code == 1 and "--mission" in bad.output
    finally:
        get_settings.cache_clear()
    assert await _ids(client, {"Authorization": f"Bearer {token}"}) == {two}


async def test_ogc_and_cot_serve_the_tokens_aor_only(client, auth, world):
    w = world["warnings"]
    r = await client.get("/ogc/collections/warnings/items", headers=world["fo_two"])
    assert r.status_code == 200, r.text
    assert {f["id"] for f in r.json()["features"]} == {w["two"]} and r.json()["numberMatched"] == 1
    r = await client.get(f"/ogc/collections/warnings/items/{w['one']}", headers=world["fo_two"])
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    r = await client.get("/ogc/collections/warnings/items", headers=auth("operations"))
    assert {f["id"] for f in r.json()["features"]} == set(w.values())
    cot = (await client.get("/api/v1/cot", headers=world["fo_two"])).text
    assert w["two"] in cot and w["one"] not in cot and w["outside"] not in cot
    cot = (await client.get("/api/v1/cot", headers=auth("operations"))).text
    assert all(i in cot for i in w.values())


async def test_an_aor_token_raises_warnings_of_its_aor_only(client, auth, conn, world):
    from tests.support.alerts import alert_doc, make_integration, post_alert

    before = _writes(conn), conn.execute("SELECT count(*) FROM warning").fetchone()
    conn.commit()
    r = await client.post("/api/v1/warnings", json=flash_body(latitude=IN_FO_ONE[0],
                                                              longitude=IN_FO_ONE[1]),
                          headers=world["fo_two"])
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["pointer"] == "/body"
    integ = await make_integration(client, auth)
    alert = (await post_alert(client, integ, alert_doc(
        text="Armed men threatened traders", latitude=IN_FO_ONE[0], longitude=IN_FO_ONE[1]))).json()["id"]
    conn.commit()
    after_alert = _writes(conn), conn.execute("SELECT count(*) FROM warning").fetchone()
    conn.commit()
    assert after_alert[1] == before[1]
    r = await client.post(f"/api/v1/alerts/{alert}/escalate", headers=world["fo_two"])
    assert r.status_code == 403 and r.json()["errors"][0]["pointer"] == "/path/alert_id"
    assert (_writes(conn), conn.execute("SELECT count(*) FROM warning").fetchone()) == after_alert
    conn.commit()
    r = await client.post("/api/v1/warnings", json=flash_body(latitude=IN_FO_TWO[0],
                                                              longitude=IN_FO_TWO[1]),
                          headers=world["fo_two"])
    assert r.status_code == 201 and r.json()["assigned_to"] == "FO Two"
