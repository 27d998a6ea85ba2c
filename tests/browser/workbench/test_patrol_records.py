"""The patrol meeting's records in Debian Chromium: a generated plan saved on the server
(POST /api/v1/patrol-plans with "save": true), listed with the saved plans, opened again, and
patrol reports recorded against its tasks from the browser."""

from __future__ import annotations

from typing import Any

from app.domain import Role
from tests.browser.conftest import needs_chromium
from tests.browser.workbench.helpers import api, open_screen
from tests.browser.workbench.test_workbench_flows import shot

pytestmark = needs_chromium


def test_a_plan_is_saved_listed_reopened_and_its_tasks_reported(
        live_server: str, page: Any, ucdp_events: int, minusca_bases: int, role_token: Any) -> None:
    ops = role_token(Role.operations)
    open_screen(page, live_server, ops, "patrols")
    page.wait_for_selector("#plan-saved-list p, #plan-saved-list table")
    page.fill("#plan-date", "2022-12-31")
    page.fill("#plan-horizon", "7")
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("#plan-table-wrap table.tasks tbody tr", timeout=120_000)
    generated = page.locator("#plan-table-wrap table.tasks tbody tr").count()
    page.click("#plan-save")
    note = page.wait_for_selector(".saved-note[data-plan]", timeout=120_000)
    plan_id = note.get_attribute("data-plan")
    saved = api(live_server, ops, "GET", f"/api/v1/patrol-plans/{plan_id}").json()
    assert saved["saved"] is True and saved["as_of"] == "2022-12-31"
    assert len(saved["tasks"]) == generated
    page.wait_for_selector(f'#plan-saved-list tr[data-plan="{plan_id}"]')

    # a report against the first task: done
    first, second = saved["tasks"][0]["id"], saved["tasks"][1]["id"] if generated > 1 else None
    page.select_option("#rep-task", first)
    page.check('input[name=rep-status][value="done"]')
    page.fill("#rep-obs", "Market quiet; met the village chief")
    page.fill("#rep-civ", "12")
    page.click("#rep-submit")
    page.wait_for_selector(f'#plan-table-wrap tr[data-task="{first}"] [data-reported="done"]')
    shot(page, "patrols-report")

    if second:
        # not done without a reason: refused, nothing recorded; with a reason: recorded
        page.select_option("#rep-task", second)
        page.check('input[name=rep-status][value="not_done"]')
        page.click("#rep-submit")
        page.wait_for_selector("#rep-result.error")
        assert api(live_server, ops, "GET", f"/api/v1/patrol-plans/{plan_id}").json()["reported"] == 1
        page.fill("#rep-reason", "Road cut by the river")
        page.click("#rep-submit")
        page.wait_for_selector(f'#plan-table-wrap tr[data-task="{second}"] [data-reported="not_done"]')

    record = api(live_server, ops, "GET", f"/api/v1/patrol-plans/{plan_id}").json()
    reports = {t["id"]: t["report"] for t in record["tasks"] if t["report"]}
    assert reports[first]["status"] == "done" and reports[first]["civilians_engaged"] == 12
    assert reports[first]["observations"] == "Market quiet; met the village chief"
    if second:
        assert reports[second]["status"] == "not_done"
        assert reports[second]["reason"] == "Road cut by the river"

    # another session: the saved plan is listed and opens with its reports
    page.reload()
    page.wait_for_selector("#controls:not([hidden])")
    page.click('[data-screen="patrols"]')
    page.click(f'#plan-saved-list tr[data-plan="{plan_id}"] .open-plan')
    page.wait_for_selector(f'.saved-note[data-plan="{plan_id}"]')
    assert page.locator("#plan-table-wrap [data-reported]").count() == len(reports)
    assert page.locator("#rep-task option").count() == generated - len(reports)
    assert page.log.errors == []
