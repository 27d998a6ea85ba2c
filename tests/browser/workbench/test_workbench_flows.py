"""The workbench's daily flows in Debian Chromium against the real service: alert triage, the
warnings board, the incident form and validation queue, the patrol meeting's printed task cards,
the footprint review, role-aware screens and French strings."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain import Role
from tests.browser.conftest import artifacts_dir, needs_chromium, sign_in, wait_layer
from tests.browser.workbench.helpers import api, integration_token, open_screen
from tests.conftest import incident_body

pytestmark = needs_chromium


def shot(page: Any, screen: str) -> None:
    """The screen at 1366×768 as docs/workbench.md describes it (tests/artifacts, not kept)."""
    page.screenshot(path=str(artifacts_dir() / f"workbench-{screen}.png"))


def _wait_until(check: Any, what: str, within_s: float = 30.0) -> Any:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:  # polling for a background worker, not a timing assertion
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_an_integration_alert_appears_in_triage_and_linking_it_adds_a_report(
        live_server: str, page: Any, settings: Any, role_token: Any) -> None:
    analyst, ops = role_token(Role.analyst), role_token(Role.operations)
    now = datetime.now(UTC)
    body = incident_body(occurred_start=(now - timedelta(hours=3)).isoformat(), latitude=5.76,
                         longitude=20.67, category="killing",
                         narrative="Two farmers killed on the road north of the town")
    incident = api(live_server, analyst, "POST", "/api/v1/incidents", json=body).json()["id"]
    before = len(api(live_server, analyst, "GET", f"/api/v1/incidents/{incident}").json()["reports"])

    open_screen(page, live_server, ops, "triage")
    # posted after the page opened: it must arrive by polling, without a reload
    token = integration_token(live_server, role_token(Role.admin))
    alert = api(live_server, token, "POST", "/api/v1/alerts", json={
        "latitude": 5.765, "longitude": 20.672, "category": "looting_destruction",
        "text": "Shops burned at the market, goods taken", "observed_at": now.isoformat()}).json()["id"]
    item = f'[data-alert="{alert}"]'
    page.wait_for_selector(item, timeout=60_000)
    page.wait_for_selector(f'{item} [data-incident="{incident}"]')  # the suggested match
    page.click(f'{item} [data-incident="{incident}"]')
    assert page.input_value(f"#link-{alert}") == incident
    shot(page, "triage")
    page.click(f"{item} .act-link")
    page.wait_for_selector(f'{item}[data-done="true"]')
    after = api(live_server, analyst, "GET", f"/api/v1/incidents/{incident}").json()
    assert len(after["reports"]) == before + 1
    assert api(live_server, ops, "GET", f"/api/v1/alerts/{alert}").json()["status"] == "linked"


def test_a_flash_warning_appears_on_the_board_and_its_acknowledgement_shows_in_the_metrics(
        live_server: str, page: Any, settings: Any, role_token: Any) -> None:
    ops = role_token(Role.operations)
    open_screen(page, live_server, ops, "warnings")
    token = integration_token(live_server, role_token(Role.admin))
    api(live_server, token, "POST", "/api/v1/alerts", json={
        "latitude": 4.36, "longitude": 18.58, "category": "sexual_violence",
        "text": "Women attacked near the river crossing", "observed_at": datetime.now(UTC).isoformat()})
    warning = _wait_until(lambda: (api(live_server, ops, "GET", "/api/v1/warnings?status=active")
                                   .json()["features"] or [None])[0], "the flash warning")
    page.click('[data-screen="map"]')
    page.click('[data-screen="warnings"]')  # the board asks again on opening; polling does too
    item = f'[data-warning="{warning["id"]}"]'
    page.wait_for_selector(item)
    assert page.locator('[data-field="tta"]').inner_text() == "—"
    page.click(f"{item} .act-ack")
    page.wait_for_selector(f'{item} .timeline li')
    _wait_until(lambda: page.locator('[data-field="tta"]').inner_text() != "—", "the metric")
    assert "min" in page.locator('[data-field="tta"]').inner_text()
    doc = api(live_server, ops, "GET", f"/api/v1/warnings/{warning['id']}").json()
    assert doc["properties"]["status"] == "acknowledged"


def test_an_overdue_warning_is_red_and_closes_with_its_outcome(
        live_server: str, page: Any, settings: Any, role_token: Any, db_url: str) -> None:
    import psycopg
    ops = role_token(Role.operations)
    token = integration_token(live_server, role_token(Role.admin))
    api(live_server, token, "POST", "/api/v1/alerts", json={
        "latitude": 4.40, "longitude": 18.55, "category": "sexual_violence",
        "text": "Girl assaulted at the well", "observed_at": datetime.now(UTC).isoformat()})
    warning = _wait_until(lambda: (api(live_server, ops, "GET", "/api/v1/warnings?status=active")
                                   .json()["features"] or [None])[0], "the flash warning")
    with psycopg.connect(db_url, autocommit=True) as c:  # raised 2 h ago: not acknowledged in 1 h
        c.execute("UPDATE warning SET created_at = now() - interval '2 hours' WHERE id = %s",
                  (warning["id"],))
    open_screen(page, live_server, ops, "warnings")
    item = f'[data-warning="{warning["id"]}"]'
    page.wait_for_selector(f"{item}.overdue")
    colour = page.eval_on_selector(f"{item} .overdue-tag", "e => getComputedStyle(e).color")
    assert colour == "rgb(165, 15, 21)"
    page.select_option(f"#type-{warning['id']}", "patrol")
    page.check(f'{item} input[value="road_or_access_denied"]')
    page.click(f"{item} .act-dispatch")
    page.wait_for_selector(f'{item} .timeline li')
    page.fill(f"#outcome-{warning['id']}", "Patrol reached the well; family referred to the clinic")
    shot(page, "warnings")
    page.click(f"{item} .act-close")
    _wait_until(lambda: api(live_server, ops, "GET", f"/api/v1/warnings/{warning['id']}")
                .json()["properties"]["status"] == "closed", "the warning to close")
    responses = api(live_server, ops, "GET", f"/api/v1/warnings/{warning['id']}").json()[
        "properties"]["responses"]
    assert any((r.get("outcome_note") or "").startswith("Patrol reached") for r in responses)
    assert any("road_or_access_denied" in (r.get("delay_reasons") or []) for r in responses)


def test_an_incident_is_recorded_from_the_form_by_keyboard_and_validated_by_an_analyst(
        live_server: str, page: Any, settings: Any, role_token: Any) -> None:
    open_screen(page, live_server, role_token(Role.operations), "incidents")
    page.wait_for_selector("#pick-map canvas")
    box = page.locator("#pick-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # map pick
    assert page.input_value("#inc-lat") != ""
    page.focus("#inc-category")
    page.select_option("#inc-category", "abduction")
    page.focus("#inc-place")
    page.keyboard.type("Kaga-Bandoro")
    page.focus("#inc-narrative")
    page.keyboard.type("Three children taken from the school")
    page.focus('#pick-reliability input[value="B"]')
    page.keyboard.press("Space")
    page.focus('#pick-credibility input[value="2"]')
    page.keyboard.press("Space")
    shot(page, "incidents")
    page.focus("#incident-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#incident-result.ok")
    iid = page.get_attribute("#incident-result", "data-incident")
    doc = api(live_server, role_token(Role.analyst), "GET", f"/api/v1/incidents/{iid}").json()
    assert doc["category"] == "abduction" and doc["status"] == "entered"
    assert doc["reports"][0]["source_reliability"] == "B"
    assert doc["reports"][0]["information_credibility"] == 2

    page.click("#signout")
    open_screen(page, live_server, role_token(Role.analyst), "validation")
    page.wait_for_selector(f'[data-incident="{iid}"] .act-validate')
    assert "entered by operations:" in page.locator(f'[data-incident="{iid}"]').inner_text()
    page.click(f'[data-incident="{iid}"] .act-validate')
    page.wait_for_selector(f'[data-incident="{iid}"][data-status="validated"]')
    shot(page, "validation")
    assert api(live_server, role_token(Role.analyst), "GET",
               f"/api/v1/incidents/{iid}").json()["status"] == "validated"


def test_a_patrol_plan_is_generated_shown_and_printed_as_task_cards(
        live_server: str, page: Any, ucdp_events: int, minusca_bases: int, role_token: Any) -> None:
    open_screen(page, live_server, role_token(Role.operations), "patrols")
    page.fill("#plan-date", "2022-12-31")
    page.fill("#plan-horizon", "7")
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("#plan-table-wrap table.tasks tbody tr", timeout=120_000)
    rows = page.locator("#plan-table-wrap table.tasks tbody tr").count()
    assert rows > 0
    page.uncheck("#plan-table-wrap table.tasks tbody tr:first-child input[type=checkbox]")  # drop a task
    assert page.locator(".task-card").count() == rows - 1
    shot(page, "patrols")
    page.click("#plan-save")
    assert page.evaluate("Boolean(localStorage.getItem('kinga.plan.2022-12-31'))")
    page.emulate_media(media="print")
    assert page.locator(".task-card").first.is_visible()
    assert not page.locator("header.top").is_visible()
    first = page.locator(".task-card").first.inner_text()
    for part in ("Desired effect", "Reason", "Time window", "Composition", "QRF"):
        assert part in first
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + \
        pdf.count(b"/Type/Page") >= 1


def test_the_footprint_review_shows_two_dates_side_by_side(
        live_server: str, page: Any, ucdp_events: int, minusca_bases: int, role_token: Any) -> None:
    open_screen(page, live_server, role_token(Role.analyst), "footprint")
    page.fill("#fp-date", "2022-12-31")
    page.fill("#fp-compare", "2021-12-31")
    page.click("#fp-form button[type=submit]")
    page.wait_for_selector('.fp-col[data-as-of="2021-12-31"] tbody tr', timeout=120_000)
    assert page.locator(".fp-col").count() == 2
    shot(page, "footprint")
    assert page.locator('.fp-col[data-as-of="2022-12-31"] tbody tr').count() > 0


def test_screens_follow_the_role_and_strings_come_from_the_french_file(
        live_server: str, page: Any, settings: Any, role_token: Any) -> None:
    sign_in(page, live_server, role_token(Role.partner))
    shown = page.eval_on_selector_all(".nav-btn[data-screen]", "bs => bs.map((b) => b.dataset.screen)")
    assert shown == ["map", "warnings"]
    page.goto(f"{live_server}/map#triage")  # a hidden screen named in the address: the map instead
    page.wait_for_selector("#controls:not([hidden])")
    assert page.is_hidden("#screen-triage")
    page.select_option("#lang", "fr")
    assert page.inner_text('[data-screen="warnings"]') == "Alertes précoces"
    assert page.get_attribute("html", "lang") == "fr"
    page.click("#signout")
    sign_in(page, live_server, role_token(Role.analyst))
    shown = page.eval_on_selector_all(".nav-btn[data-screen]", "bs => bs.map((b) => b.dataset.screen)")
    assert "validation" in shown and "triage" in shown


def test_the_time_slider_moves_the_date_and_play_steps_a_week_at_a_time(
        live_server: str, page: Any, ucdp_events: int, role_token: Any) -> None:
    sign_in(page, live_server, role_token(Role.analyst))
    wait_layer(page, "hotspots")
    latest = page.input_value("#as-of")
    # the slider starts at the latest data: its last step
    assert page.input_value("#time-slider") == page.get_attribute("#time-slider", "max") == "3647"
    page.focus("#time-slider")
    with page.expect_response(lambda r: "/api/v1/hotspots?" in r.url):
        page.keyboard.press("Home")  # ten years back, from the keyboard
    back = page.input_value("#as-of")
    assert back < latest
    page.click("#play")
    page.wait_for_function(f"document.getElementById('as-of').value > '{back}'")
    page.click("#play")  # pause
    page.wait_for_selector('#play[aria-pressed="false"]')
    moved = datetime.fromisoformat(page.input_value("#as-of")) - datetime.fromisoformat(back)
    assert moved.days % 7 == 0 and moved.days >= 7


def test_the_incident_form_finds_a_place_in_the_gazetteer(
        live_server: str, page: Any, settings: Any, role_token: Any) -> None:
    open_screen(page, live_server, role_token(Role.operations), "incidents")
    page.fill("#inc-place", "Bambari")
    page.click("#place-search")
    page.click('#place-hits [data-place] >> nth=0')
    lat, lon = float(page.input_value("#inc-lat")), float(page.input_value("#inc-lon"))
    assert abs(lat - 5.76) < 0.2 and abs(lon - 20.67) < 0.2  # Bambari, Ouaka
