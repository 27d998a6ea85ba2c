"""Clicking a warning shows its lifecycle and responses, with every API string inserted as text.

The warnings answer is served by a Playwright route in the shape GET /api/v1/warnings and
GET /api/v1/warnings/{id} give (a Feature whose properties carry `responses`), so the test holds
markup-bearing strings that the real rules would never produce."""

from __future__ import annotations

import json
from typing import Any

from app.domain import Role
from tests.browser.conftest import map_idle, needs_chromium, sign_in, wait_layer

pytestmark = needs_chromium

HOSTILE = '<img src=x onerror="window.pwned=1">Armed men near Bambari'
WARNING = {
    "type": "Feature", "id": "7d3c1c52-0000-4000-8000-000000000001",
    "geometry": {"type": "Polygon", "coordinates": [[[20.5, 5.6], [20.9, 5.6], [20.9, 6.0],
                                                     [20.5, 6.0], [20.5, 5.6]]]},
    "properties": {"rule": "sexual_violence_alert", "status": "acknowledged",
                   "severity": "Severe", "urgency": "Immediate", "certainty": "Likely",
                   "category": "sexual_violence", "headline": HOSTILE,
                   "description": "<script>window.pwned=2</script>Community alert network report.",
                   "created_at": "2022-12-20T10:00:00+00:00",
                   "acknowledged_at": "2022-12-20T10:20:00+00:00", "closed_at": None,
                   "expires_at": "2022-12-27T10:00:00+00:00"},
}
RESPONSE = {"id": "r1", "warning_id": WARNING["id"], "type": "patrol", "unit": "<b>BANBATT</b>",
            "acknowledged_at": "2022-12-20T10:20:00+00:00",
            "dispatched_at": "2022-12-20T12:00:00+00:00", "on_scene_at": None,
            "outcome": "ongoing", "delay_reasons": ["road_or_access_denied"]}


def _serve_warning(page: Any) -> None:
    listing = {"type": "FeatureCollection", "features": [WARNING], "numberReturned": 1}
    detail = {**WARNING, "properties": {**WARNING["properties"], "responses": [RESPONSE]}}
    page.route("**/api/v1/warnings?*", lambda r: r.fulfill(
        status=200, content_type="application/geo+json", body=json.dumps(listing)))
    page.route(f"**/api/v1/warnings/{WARNING['id']}", lambda r: r.fulfill(
        status=200, content_type="application/geo+json", body=json.dumps(detail)))


def test_clicking_a_warning_shows_lifecycle_and_responses_as_text(
        live_server: str, page: Any, role_token: Any) -> None:
    _serve_warning(page)
    sign_in(page, live_server, role_token(Role.operations))
    assert wait_layer(page, "warnings") == "ok"
    map_idle(page)
    point = page.evaluate("""() => { const m = window.kinga.map;
        const box = m.getContainer().getBoundingClientRect(); const p = m.project([20.7, 5.8]);
        return { x: box.x + p.x, y: box.y + p.y }; }""")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector("#panel:not([hidden]) [data-field=lifecycle]")
    assert page.text_content("#panel-title") == f"Warning: {HOSTILE}"
    assert page.locator("#panel img, #panel script, #panel b").count() == 0
    assert page.evaluate("window.pwned") is None
    assert page.text_content('#panel [data-field="severity"]') == "Severe"
    steps = page.locator("#panel [data-field=lifecycle] li").all_text_contents()
    assert [s.split(" ")[0] for s in steps] == ["raised", "acknowledged", "expires"]
    responses = page.locator("#panel [data-field=responses] > li")
    assert responses.count() == 1
    text = responses.first.text_content()
    assert "<b>BANBATT</b>" in text and "road or access denied" in text
    assert page.log.errors == []
