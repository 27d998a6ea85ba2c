"""The incident page in Debian Chromium: opened from the validation queue, the incident form and
the map's cell details; its reports with their source grading, its grade, its audit trail, and
"merge with…" from a candidate or by id."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain import Role
from tests.browser.conftest import needs_chromium, sign_in, wait_layer
from tests.browser.workbench.helpers import api, open_screen, serious_violations
from tests.browser.workbench.test_workbench_flows import shot
from tests.conftest import incident_body

pytestmark = needs_chromium

# Two accounts 15 km and two days apart, different category and actors: within the candidate
# search's reach (25 km, 3 days) but well under the review threshold, so both stay incidents.
FIRST = incident_body(narrative="Two men killed at the market.")
SECOND = incident_body(latitude=4.39 + 15 / 111, occurred_start="2024-03-04T09:00:00Z",
                       category="looting_destruction", perpetrators=["Bandits"], fatalities_best=0,
                       narrative="Shops looted on the road north.",
                       report={"section": "police", "source_reliability": "D",
                               "information_credibility": 4})


@pytest.fixture
def axe_page(chromium: Any, request: pytest.FixtureRequest) -> Any:
    """The page with its CSP bypassed so that the test may inject axe-core (never shipped)."""
    from tests.browser.conftest import _page
    yield from _page(chromium, request, service_workers="block", bypass_csp=True)


def _record(base: str, token: str, body: dict[str, Any]) -> str:
    r = api(base, token, "POST", "/api/v1/incidents", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["triangulation"]["outcome"] == "new", r.text
    return str(r.json()["id"])


def test_the_incident_page_shows_reports_grade_and_audit_and_merges_with_a_candidate(
        live_server: str, axe_page: Any, settings: Any, role_token: Any) -> None:
    page = axe_page
    analyst = role_token(Role.analyst)
    first = _record(live_server, analyst, FIRST)
    second = _record(live_server, analyst, SECOND)
    r = api(live_server, analyst, "POST", f"/api/v1/incidents/{first}/reports",
            json={"section": "human_rights", "source_name": "HRD monitor",
                  "source_reliability": "A", "information_credibility": 1})
    assert r.status_code == 201, r.text
    api(live_server, analyst, "POST", f"/api/v1/incidents/{first}/validate")

    # from the validation queue
    open_screen(page, live_server, analyst, "validation")
    page.click(f'#validation-list [data-incident="{first}"] [data-open="{first}"]')
    page.wait_for_selector(f'#incident-page[data-incident="{first}"] #ip-audit')
    assert page.evaluate("location.hash") == f"#incident/{first}"
    assert page.evaluate("document.activeElement.id") == "incident-page-title"
    grade = page.text_content('#incident-page [data-field="grade"]')
    assert grade.startswith("A — corroborated")
    assert page.text_content('#incident-page [data-field="sources"]') == "2"
    rows = page.evaluate("""[...document.querySelectorAll('#ip-reports tbody tr')]
        .map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent))""")
    grading = sorted((r[2], r[3]) for r in rows)
    assert grading == [("A — completely reliable", "1 — confirmed by other sources"),
                       ("B — usually reliable", "2 — probably true")]
    actions = page.evaluate("""[...document.querySelectorAll('#ip-audit tbody tr')]
        .map((tr) => tr.dataset.action)""")
    assert actions == ["create", "add_report", "validated"]
    assert "validated by analyst:" in page.text_content('#incident-page [data-field="eyes"]')
    shot(page, "incident")
    assert serious_violations(page) == []

    # the second incident, opened by id; the first is its candidate; merge it there
    page.fill("#ip-id", second)
    page.press("#ip-id", "Enter")
    page.wait_for_selector(f'#incident-page[data-incident="{second}"] #ip-merge')
    candidate = f'#ip-merge [data-candidate="{first}"]'
    page.wait_for_selector(candidate)
    assert "km" in page.text_content(candidate)
    page.check(f"{candidate} input[type=radio]")
    assert page.input_value("#ip-into") == first
    page.click("#ip-merge-go")
    page.wait_for_selector(f'#incident-page[data-incident="{second}"][data-status="merged"]')
    got = api(live_server, analyst, "GET", f"/api/v1/incidents/{second}").json()
    assert got["status"] == "merged" and got["merged_into"] == first
    target = api(live_server, analyst, "GET", f"/api/v1/incidents/{first}").json()
    assert len(target["reports"]) == 3
    assert page.evaluate("""[...document.querySelectorAll('#ip-audit tbody tr')]
        .map((tr) => tr.dataset.action).pop()""") == "merge"

    # the merged account points at the incident it joined; its page shows the merge too
    page.click(f'.merged-note [data-open="{first}"]')
    page.wait_for_selector(f'#incident-page[data-incident="{first}"] #ip-audit')
    assert page.locator("#ip-reports tbody tr").count() == 3
    assert page.evaluate("""[...document.querySelectorAll('#ip-audit tbody tr')]
        .map((tr) => tr.dataset.action).pop()""") == "merge_into"
    assert page.log.errors == []


def test_merging_by_id_refuses_a_bad_target_and_nothing_is_merged(
        live_server: str, page: Any, settings: Any, role_token: Any) -> None:
    admin = role_token(Role.admin)
    first = _record(live_server, admin, FIRST)
    page.goto(f"{live_server}/map#incident/{first}")
    page.fill("#token", admin)
    page.press("#token", "Enter")
    page.wait_for_selector(f'#incident-page[data-incident="{first}"] #ip-merge-form')
    page.fill("#ip-into", "not-an-id")
    page.click("#ip-merge-go")
    page.wait_for_selector("#ip-merge-result.error")
    page.fill("#ip-into", first)  # itself: the server refuses it (422)
    page.click("#ip-merge-go")
    page.wait_for_selector("#ip-merge-result.error:has-text('itself')")
    assert api(live_server, admin, "GET", f"/api/v1/incidents/{first}").json()["status"] == "entered"


def test_the_incident_form_and_the_map_details_open_the_incident_page(
        live_server: str, page: Any, settings: Any, role_token: Any) -> None:
    analyst = role_token(Role.analyst)
    first = _record(live_server, analyst, FIRST)
    sign_in(page, live_server, analyst)
    wait_layer(page, "hotspots")
    page.click("#top-cells button")
    page.wait_for_selector(f'#panel:not([hidden]) [data-field="incidents"] [data-open="{first}"]')
    page.click(f'#panel [data-open="{first}"]')
    page.wait_for_selector(f'#incident-page[data-incident="{first}"] #ip-reports')

    # the form's result opens the incident just recorded
    page.click('[data-screen="incidents"]')
    page.fill("#inc-lat", "4.5")
    page.fill("#inc-lon", "18.9")
    page.click("#incident-form button[type=submit]")
    page.wait_for_selector("#incident-result.ok [data-open]")
    new = page.get_attribute("#incident-result [data-open]", "data-open")
    page.click("#incident-result [data-open]")
    page.wait_for_selector(f'#incident-page[data-incident="{new}"] #ip-reports')
    assert page.text_content('#incident-page [data-field="status"]') == "entered"


def test_operations_see_reports_but_no_audit_or_merge_and_partners_no_incident_page(
        live_server: str, page: Any, settings: Any, role_token: Any) -> None:
    ops = role_token(Role.operations)
    first = _record(live_server, role_token(Role.analyst), FIRST)
    page.goto(f"{live_server}/map#incident/{first}")
    page.fill("#token", ops)
    page.press("#token", "Enter")
    page.wait_for_selector(f'#incident-page[data-incident="{first}"] #ip-reports')
    assert page.locator("#ip-audit").count() == 0 and page.locator("#ip-merge").count() == 0
    page.click("#signout")
    page.goto(f"{live_server}/map#incident/{first}")
    page.fill("#token", role_token(Role.partner))
    page.press("#token", "Enter")
    page.wait_for_selector("#controls:not([hidden])")
    assert page.evaluate("document.body.dataset.currentScreen") == "map"
