"""Keyboard-only use of the workbench (Debian Chromium): signing in, the incident form, the
alert triage queue and the warnings board are driven with Tab, arrows, Space and Enter only —
no clicks, no filling by selector; focus is always visible and survives the lists' redraws."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain import Role
from tests.browser.conftest import needs_chromium
from tests.browser.workbench.helpers import api, integration_token
from tests.conftest import incident_body

pytestmark = needs_chromium
MAX_TABS = 400


def focused(page: Any, selector: str) -> bool:
    return bool(page.evaluate("(s) => Boolean(document.activeElement?.matches(s))", selector))


def tab_to(page: Any, selector: str) -> None:
    """Presses Tab until the focused element matches; fails if it is never reached."""
    for _ in range(MAX_TABS):
        if focused(page, selector):
            assert_visible_focus(page)
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with Tab")


def assert_visible_focus(page: Any) -> None:
    style = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, parseFloat(s.outlineWidth)]; }""")
    assert style[0] != "none" and style[1] >= 2, (page.evaluate(
        "document.activeElement.outerHTML.slice(0, 120)"), style)


def keyboard_sign_in(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/map")
    tab_to(page, "#token")
    page.keyboard.type(token)
    page.keyboard.press("Enter")
    page.wait_for_selector("#controls:not([hidden])")


def open_by_keyboard(page: Any, screen: str) -> None:
    tab_to(page, f'.nav-btn[data-screen="{screen}"]')
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#screen-{screen}:not([hidden])")


def test_the_incident_form_by_keyboard_only(live_server: str, page: Any, settings: Any,
                                            role_token: Any) -> None:
    keyboard_sign_in(page, live_server, role_token(Role.operations))
    open_by_keyboard(page, "incidents")
    tab_to(page, "#inc-lat")
    page.keyboard.type("5.7602")
    tab_to(page, "#inc-lon")
    page.keyboard.type("20.6711")
    tab_to(page, "#inc-narrative")
    page.keyboard.type("Houses burned at night")
    tab_to(page, "#pick-reliability input")  # the group's checked option: F
    for _ in range(4):
        page.keyboard.press("ArrowUp")  # F → E → D → C → B
    assert page.evaluate("document.querySelector('#pick-reliability input:checked').value") == "B"
    tab_to(page, "#pick-credibility input")
    for _ in range(4):
        page.keyboard.press("ArrowUp")  # 6 → 2
    tab_to(page, "#incident-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#incident-result.ok [data-open]")
    iid = page.get_attribute("#incident-result", "data-incident")
    doc = api(live_server, role_token(Role.analyst), "GET", f"/api/v1/incidents/{iid}").json()
    assert (doc["latitude"], doc["longitude"]) == (5.7602, 20.6711)
    assert doc["narrative"] == "Houses burned at night"
    assert (doc["reports"][0]["source_reliability"], doc["reports"][0]["information_credibility"]) \
        == ("B", 2)
    # and on to the incident just recorded
    tab_to(page, "#incident-result [data-open]")
    page.keyboard.press("Enter")
    page.wait_for_selector(f'#incident-page[data-incident="{iid}"] #ip-reports')
    assert focused(page, "#incident-page-title")
    assert page.log.errors == []


def test_the_triage_queue_by_keyboard_only(live_server: str, page: Any, settings: Any,
                                           role_token: Any) -> None:
    analyst, ops = role_token(Role.analyst), role_token(Role.operations)
    now = datetime.now(UTC)
    incident = api(live_server, analyst, "POST", "/api/v1/incidents", json=incident_body(
        occurred_start=(now - timedelta(hours=3)).isoformat(), latitude=5.76, longitude=20.67,
        narrative="Two farmers killed on the road north of the town")).json()["id"]
    keyboard_sign_in(page, live_server, ops)
    open_by_keyboard(page, "triage")
    token = integration_token(live_server, role_token(Role.admin))
    alert = api(live_server, token, "POST", "/api/v1/alerts", json={
        "latitude": 5.765, "longitude": 20.672, "category": "looting_destruction",
        "text": "Shops burned at the market, goods taken", "observed_at": now.isoformat()}).json()["id"]
    item = f'[data-alert="{alert}"]'
    page.wait_for_selector(f'{item} [data-incident="{incident}"]', timeout=60_000)
    tab_to(page, f'{item} [data-incident="{incident}"]')  # the suggested match
    page.keyboard.press("Enter")
    assert focused(page, f"#link-{alert}")
    assert page.input_value(f"#link-{alert}") == incident
    tab_to(page, f"{item} .act-link")
    page.keyboard.press("Enter")
    page.wait_for_selector(f'{item}[data-done="true"]')
    assert focused(page, f"{item} .result")  # the outcome, read out; the controls are spent
    after = api(live_server, analyst, "GET", f"/api/v1/incidents/{incident}").json()
    assert len(after["reports"]) == 2
    assert api(live_server, ops, "GET", f"/api/v1/alerts/{alert}").json()["status"] == "linked"
    # the queue redraws without the linked alert: focus lands on the screen, not on nothing
    page.wait_for_selector(item, state="detached", timeout=60_000)
    assert focused(page, "#triage-title")
    assert page.log.errors == []


def test_the_warnings_board_by_keyboard_only(live_server: str, page: Any, settings: Any,
                                             role_token: Any) -> None:
    ops = role_token(Role.operations)
    r = api(live_server, ops, "POST", "/api/v1/warnings", json={
        "latitude": 4.36, "longitude": 18.58, "headline": "Armed men seen near the camp",
        "severity": "Severe", "urgency": "Immediate", "certainty": "Likely"})
    assert r.status_code == 201, r.text
    warning = r.json()["id"]
    keyboard_sign_in(page, live_server, ops)
    open_by_keyboard(page, "warnings")
    item = f'[data-warning="{warning}"]'
    page.wait_for_selector(item)
    tab_to(page, f"{item} .act-ack")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{item} .timeline li")
    assert focused(page, f"{item} .act-ack")  # the board was redrawn; focus kept its place
    tab_to(page, f'{item} .delays input[value="road_or_access_denied"]')
    page.keyboard.press("Space")
    tab_to(page, f"{item} .act-dispatch")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{item} .timeline li:nth-child(2)")
    responses = api(live_server, ops, "GET", f"/api/v1/warnings/{warning}").json()[
        "properties"]["responses"]
    assert responses[0]["acknowledged_at"]
    assert any(x.get("dispatched_at") and "road_or_access_denied" in (x.get("delay_reasons") or [])
               for x in responses)
    assert page.log.errors == []
