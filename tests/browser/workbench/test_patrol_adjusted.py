"""The patrol meeting saves what the planners see (Debian Chromium): a base's capacity changed on
screen for this plan, a task dropped and a cell added, saved, and the saved plan holds exactly
the adjusted tasks, in the API and after a reload."""

from __future__ import annotations

from typing import Any

import h3

from app.domain import Role
from tests.browser.conftest import needs_chromium
from tests.browser.workbench.helpers import api, open_screen
from tests.browser.workbench.test_workbench_flows import shot

pytestmark = needs_chromium


def _well_inside(lat: float, lon: float) -> bool:
    """Far from the mission area's borders (the bundled CAR outline): any cell here is inside it."""
    return 5.0 <= lat <= 8.5 and 16.5 <= lon <= 22.5


def _rows(page: Any) -> list[dict[str, str]]:
    return list(page.eval_on_selector_all("#plan-table-wrap table.tasks tbody tr", """rows => rows.map(r => ({
        cell: r.dataset.cell, base: r.children[1].textContent, mode: r.children[2].textContent,
        kept: r.querySelector('input[type=checkbox]').checked }))"""))


def test_capacity_changed_a_task_dropped_a_cell_added_and_exactly_that_is_saved(
        live_server: str, page: Any, ucdp_events: int, minusca_bases: int, role_token: Any) -> None:
    ops = role_token(Role.operations)
    open_screen(page, live_server, ops, "patrols")
    page.wait_for_selector("#plan-capacity-wrap input.cap", state="attached")
    page.fill("#plan-date", "2022-12-31")
    page.dispatch_event("#plan-date", "change")
    page.wait_for_function("document.querySelector('#plan-capacity-wrap input.cap') !== null")
    page.fill("#plan-horizon", "7")
    # capacity: one more road patrol a day from the first base that has any
    page.click("#plan-capacity summary")
    cap = page.locator('#plan-capacity-wrap input.cap[data-mode="road"]:not([data-default="0"])').first
    base_id, default = cap.get_attribute("data-base"), int(cap.get_attribute("data-default") or 0)
    cap.fill(str(default + 1))
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("#plan-table-wrap table.tasks tbody tr", timeout=120_000)
    rows = _rows(page)
    assert len(rows) >= 2, rows
    # drop the first task
    page.locator("#plan-table-wrap table.tasks tbody tr").first.locator("input[type=checkbox]").uncheck()
    # add a cell: one the plan left uncovered, else a neighbour of a kept task's cell
    options = page.eval_on_selector_all("#plan-add-cells option", "os => os.map(o => o.value)")
    tasked = {r["cell"] for r in rows}
    cell = next((c for c in options if c not in tasked), None) or next(
        c for r in rows[1:] for c in h3.grid_ring(r["cell"], 2)
        if c not in tasked and _well_inside(*h3.cell_to_latlng(c)))
    page.fill("#plan-add-cell", cell)
    page.select_option("#plan-add-mode", "foot")
    add_base = page.eval_on_selector("#plan-add-base", "s => s.value")
    page.click("#plan-add-submit")
    page.wait_for_selector(f'#plan-table-wrap tr[data-added="true"][data-cell="{cell}"]')
    shot(page, "patrols-adjusted")
    expected = [r["cell"] for r in rows[1:]] + [cell]

    page.click("#plan-save")
    note = page.wait_for_selector(".saved-note[data-plan]", timeout=120_000)
    plan_id = note.get_attribute("data-plan")
    saved = api(live_server, ops, "GET", f"/api/v1/patrol-plans/{plan_id}").json()
    assert [t["cell_ids"][0] for t in saved["tasks"]] == expected
    assert rows[0]["cell"] not in {t["cell_ids"][0] for t in saved["tasks"]}
    new = saved["tasks"][-1]
    assert (new["base_id"], new["mode"]) == (add_base, "foot") and new["desired_effect"]
    assert {"base_id": base_id, "mode": "road", "patrols_per_day": default + 1} in \
        saved["parameters"]["capacity_overrides"]
    assert saved["summary"]["adjusted"] is True
    road = [p for p in saved["summary"]["patrols"] if p["base_id"] == base_id and p["mode"] == "road"]
    assert road and road[0]["available"] == (default + 1) * 7

    # reload the saved plan: exactly the adjusted tasks
    page.reload()
    page.wait_for_selector("#controls:not([hidden])")
    page.click('[data-screen="patrols"]')
    page.click(f'#plan-saved-list tr[data-plan="{plan_id}"] .open-plan')
    page.wait_for_selector(f'.saved-note[data-plan="{plan_id}"]')
    assert [r["cell"] for r in _rows(page)] == expected
    assert page.log.errors == []
