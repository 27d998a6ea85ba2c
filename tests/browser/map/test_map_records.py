"""The map opens fitted to the mission record's area, and shows saved patrol plans (with each
task's report status) and responses to warnings as layers (Debian Chromium, the real service)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.domain import Role
from tests.browser.conftest import needs_chromium, sign_in, wait_layer
from tests.browser.workbench.helpers import api

pytestmark = needs_chromium

AREA = {"type": "Polygon", "coordinates": [[[16.0, 3.0], [24.0, 3.0], [24.0, 8.0], [16.0, 8.0],
                                            [16.0, 3.0]]]}


def _mission_record(base: str, admin: str) -> str:
    code = api(base, admin, "GET", "/api/v1/map/session").json()["mission"]["code"]
    r = api(base, admin, "POST", "/api/v1/missions",
            json={"code": code, "name": "Test mission", "area": AREA, "timezone": "Africa/Bangui"})
    assert r.status_code == 201, r.text
    return str(code)


def _apply_date(page: Any, day: str, layer: str, path: str, param: str) -> None:
    """Sets the as-of date and waits for the layer's reload for that date."""
    page.fill("#as-of", day)
    with page.expect_response(lambda r: r.url.split("?")[0].endswith(path) and param in r.url):
        page.click("#apply")
    wait_layer(page, layer, "ok")


def test_the_map_fits_the_mission_area_and_shows_saved_plans_and_responses(
        live_server: str, page: Any, ucdp_events: int, minusca_bases: int,
        role_token: Any) -> None:
    admin, ops = role_token(Role.admin), role_token(Role.operations)
    code = _mission_record(live_server, admin)
    r = api(live_server, ops, "POST", "/api/v1/patrol-plans?f=json",
            json={"as_of": "2022-12-31", "horizon_days": 7, "save": True})
    assert r.status_code == 201, r.text
    plan = r.json()
    task = plan["tasks"][0]["id"]
    r = api(live_server, ops, "POST", f"/api/v1/patrol-plans/{plan['id']}/tasks/{task}/report",
            json={"status": "done", "started_at": "2023-01-01T08:00:00Z"})
    assert r.status_code == 201, r.text
    cells = sum(len(t["cells"]["features"]) for t in plan["tasks"])
    r = api(live_server, ops, "POST", "/api/v1/warnings", json={
        "latitude": 4.36, "longitude": 18.58, "headline": "Armed men seen near the camp",
        "severity": "Severe", "urgency": "Immediate", "certainty": "Likely"})
    assert r.status_code == 201, r.text
    warning = r.json()["id"]
    r = api(live_server, ops, "POST", f"/api/v1/warnings/{warning}/responses",
            json={"type": "none", "acknowledged_at": datetime.now(UTC).isoformat()})
    assert r.status_code == 201, r.text

    sign_in(page, live_server, ops)
    page.wait_for_selector(f'#map[data-fitted="{code}"]', timeout=120_000)
    west, south, east, north = page.evaluate("kinga.map.getBounds().toArray().flat()")
    # the whole area is in view, and the view is not much larger than the area
    assert west <= 16.0 and east >= 24.0 and south <= 3.0 and north >= 8.0
    assert (east - west) < 8.0 * 2.5 or (north - south) < 5.0 * 2.5

    page.check("#layer-saved-plans")
    _apply_date(page, "2023-01-02", "saved-plans", "/api/v1/patrol-plans", "start=2023-01-02")
    feats = page.evaluate("kinga.state.data['saved-plans'].features.map((f) => f.properties)")
    assert len(feats) == cells
    assert {f["plan_id"] for f in feats} == {plan["id"]}
    assert {f["report"] for f in feats if f["task"] == task} == {"done"}
    assert {f["report"] for f in feats if f["task"] != task} <= {"not_reported"}

    page.check("#layer-responses")
    today = datetime.now(UTC).date().isoformat()
    _apply_date(page, today, "responses", "/api/v1/warnings", "status=acknowledged")
    shown = page.evaluate("kinga.state.data.responses.features.map((f) => [String(f.id), f.properties.status])")
    assert [str(warning), "acknowledged"] in [list(x) for x in shown]
    assert page.log.errors == []
    assert page.log.foreign_requests() == []
