"""Validation and approval queues read the real record (Debian Chromium): who entered an
incident comes from the incident, who validated it from its audit trail. An analyst's validation
shows in an admin's queue with the analyst's name; the admin who entered the incident is offered
no Approve (four eyes, the rule the server enforces: 403 if forced); another admin approves."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.cli.support import create_token
from app.domain import Role
from tests.browser.conftest import _page, needs_chromium
from tests.browser.workbench.helpers import api, open_screen, serious_violations
from tests.browser.workbench.test_workbench_flows import shot
from tests.conftest import incident_body

pytestmark = needs_chromium


@pytest.fixture
def axe_page(chromium: Any, request: pytest.FixtureRequest) -> Any:
    """A page axe-core can be injected into (its inline script would break the CSP otherwise)."""
    yield from _page(chromium, request, service_workers="block", bypass_csp=True)


def test_an_analysts_validation_reaches_the_approvers_with_four_eyes(
        live_server: str, axe_page: Any, role_token: Any, settings: Any) -> None:
    page = axe_page
    entering_admin = create_token(settings, Role.admin, f"browser-admin-a-{uuid.uuid4().hex[:6]}")
    other_admin = create_token(settings, Role.admin, f"browser-admin-b-{uuid.uuid4().hex[:6]}")
    analyst = role_token(Role.analyst)
    r = api(live_server, entering_admin, "POST", "/api/v1/incidents",
            json=incident_body(narrative="Village burnt at dawn"))
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    entered_by = api(live_server, entering_admin, "GET", f"/api/v1/incidents/{iid}").json()["created_by"]
    assert entered_by.startswith("admin:browser-admin-a-")
    card = f'#validation-list [data-incident="{iid}"]'

    # the analyst validates it from the queue
    open_screen(page, live_server, analyst, "validation")
    page.wait_for_selector(f"{card} .act-validate")
    assert page.locator(f'{card} [data-eyes="entered"]').inner_text() == f"entered by {entered_by}"
    page.click(f"{card} .act-validate")
    page.wait_for_selector(f'{card}[data-status="validated"]')
    validator = api(live_server, analyst, "GET", f"/api/v1/incidents/{iid}/audit").json()["items"][-1]["actor"]
    assert validator.startswith("analyst:")
    assert page.locator(f'{card} [data-eyes="validated"]').inner_text() == f"validated by {validator}"
    assert page.locator(f"{card} .act-approve").count() == 0  # analysts do not approve
    page.click("#signout")

    # the admin who entered it: the validator's name, no Approve, the four-eyes note
    open_screen(page, live_server, entering_admin, "validation")
    page.wait_for_selector(f'{card}[data-status="validated"] [data-eyes="validated"]')
    assert page.locator(f'{card} [data-eyes="validated"]').inner_text() == f"validated by {validator}"
    assert page.locator(f"{card} .act-approve").count() == 0
    assert "four eyes" in page.locator(f"{card} .four-eyes").inner_text()
    forced = api(live_server, entering_admin, "POST", f"/api/v1/incidents/{iid}/approve", json={})
    assert forced.status_code == 403 and forced.json()["type"] == "urn:kinga:problem:four-eyes"
    assert serious_violations(page) == []
    shot(page, "validation-four-eyes")
    page.click("#signout")

    # another admin approves it from the queue
    open_screen(page, live_server, other_admin, "validation")
    page.wait_for_selector(f"{card} .act-approve")
    assert page.locator(f'{card} [data-eyes="validated"]').inner_text() == f"validated by {validator}"
    page.click(f"{card} .act-approve")
    page.wait_for_selector(card, state="detached")
    doc = api(live_server, other_admin, "GET", f"/api/v1/incidents/{iid}").json()
    assert doc["status"] == "approved"
    trail = api(live_server, other_admin, "GET", f"/api/v1/incidents/{iid}/audit").json()["items"]
    assert [e["action"] for e in trail][-2:] == ["validated", "approved"]
    assert trail[-1]["actor"] != entered_by and trail[-1]["actor"] != validator
    assert page.log.errors == []
