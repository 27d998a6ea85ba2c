"""/map in a real browser: the page shell, sign-in, the basemap and the incidents layer, offline."""

from __future__ import annotations

from typing import Any

import httpx

from app.domain import Role
from tests.browser.conftest import needs_chromium, sign_in, wait_layer

pytestmark = needs_chromium


def test_map_page_is_served_with_a_strict_csp(live_server: str) -> None:
    r = httpx.get(f"{live_server}/map")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    assert "/map/assets/map.js" in r.text
    js = httpx.get(f"{live_server}/map/assets/map.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    outlines = httpx.get(f"{live_server}/map/countries.geojson")
    assert outlines.headers["content-type"] == "application/geo+json"
    assert {f["properties"]["iso_a3"] for f in outlines.json()["features"]} >= {"CAF"}


def test_session_endpoint_needs_a_token(live_server: str) -> None:
    r = httpx.get(f"{live_server}/api/v1/map/session")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")


def test_wrong_token_is_refused_on_the_page(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/map")
    page.fill("#token", "not-a-real-token")
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#signin-error:not(:empty)")
    assert "unknown or revoked" in page.text_content("#signin-error")
    assert page.is_hidden("#controls")
    assert page.evaluate("sessionStorage.getItem('kinga.token')") is None
    assert page.log.errors == []


def test_sign_in_shows_role_and_incidents_offline(live_server: str, page: Any, ucdp_events: int,
                                                 role_token: Any) -> None:
    sign_in(page, live_server, role_token(Role.operations))
    assert "operations" in page.text_content("#who")
    assert wait_layer(page, "incidents") == "ok"
    n = page.evaluate("kinga.state.data.incidents.features.length")
    assert n > 0
    # the as-of date defaults to the latest incident, so the real CAR data is in the window
    assert page.input_value("#as-of") == "2022-12-31" or page.input_value("#as-of") < "2023-01-01"
    # basemap drawn from the bundled outlines
    assert page.evaluate("kinga.map.querySourceFeatures('countries').length") > 0
    # the token lives in sessionStorage only
    assert page.evaluate("sessionStorage.getItem('kinga.token')") is not None
    assert page.evaluate("localStorage.length") == 0
    foreign = page.log.foreign_requests()
    assert foreign == [], foreign
    assert any("/map/countries.geojson" in u for u in page.log.requests)
    assert page.log.errors == []


def test_a_missing_endpoint_shows_a_disabled_layer_not_an_error(live_server: str, page: Any,
                                                                ucdp_events: int,
                                                                role_token: Any) -> None:
    # a server without the forecast issue: its endpoint answers 404
    page.route("**/api/v1/forecast?*", lambda route: route.fulfill(
        status=404, content_type="application/problem+json", body='{"title": "Not found"}'))
    sign_in(page, live_server, role_token(Role.analyst))
    page.check("#layer-forecast")
    assert wait_layer(page, "forecast") == "unavailable"
    assert page.is_disabled("#layer-forecast")
    assert "not available" in page.text_content("#note-forecast")
    for layer in ("hotspots", "incidents", "warnings", "bases"):
        assert wait_layer(page, layer) == "ok", page.text_content(f"#note-{layer}")
    assert page.log.errors == []


def test_integration_role_sees_no_layers_without_crashing(live_server: str, page: Any,
                                                          role_token: Any) -> None:
    sign_in(page, live_server, role_token(Role.integration))
    assert wait_layer(page, "incidents") == "forbidden"
    assert "only post alerts" in page.text_content("#status")
    assert page.log.errors == []
