"""The hotspot layer in a real browser: rendered features and pixels, the cell panel against the
API's answer, the time and filter controls re-querying, keyboard use, partners' sanitised view."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from app.domain import Role
from tests.browser.conftest import (
    artifacts_dir,
    human,
    js_number,
    map_idle,
    needs_chromium,
    sign_in,
    wait_layer,
)

pytestmark = needs_chromium

# Snapshot of the map canvas (the map is built with preserveDrawingBuffer, so it can be read).
SNAPSHOT = """(key) => {
    const c = window.kinga.map.getCanvas();
    const o = document.createElement('canvas'); o.width = c.width; o.height = c.height;
    const g = o.getContext('2d'); g.drawImage(c, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    window[key] = d;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 16) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return { width: c.width, height: c.height, colours: colours.size };
}"""
DIFF = """() => { const a = window.snapA, b = window.snapB; let n = 0;
    for (let i = 0; i < a.length; i += 4) {
        const dr = a[i] - b[i], dg = a[i + 1] - b[i + 1], db = a[i + 2] - b[i + 2];
        if (Math.abs(dr) + Math.abs(dg) + Math.abs(db) > 24) n += 1;
    }
    return n / (a.length / 4); }"""
# A well-inside hexagon of the hotspot layer: its id and its centre in canvas CSS pixels.
PICK_CELL = """() => {
    const m = window.kinga.map, box = m.getContainer().getBoundingClientRect();
    const feats = [...window.kinga.state.data.hotspots.features]
        .sort((a, b) => b.properties.threat_score - a.properties.threat_score);
    for (const f of feats) {
        const ring = f.geometry.coordinates[0].slice(0, -1);
        const c = [ring.reduce((s, p) => s + p[0], 0) / ring.length,
                   ring.reduce((s, p) => s + p[1], 0) / ring.length];
        const px = m.project(c);
        if (px.x < 80 || px.y < 80 || px.x > box.width - 420 || px.y > box.height - 80) continue;
        const hit = m.queryRenderedFeatures(px, { layers: ['hotspots-fill'] });
        if (hit.length && hit[0].properties.cell === f.id) {
            return { id: f.id, x: box.x + px.x, y: box.y + px.y };
        }
    }
    return null;
}"""


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _only(page: Any, *keep: str) -> None:
    for layer in ("incidents", "warnings", "bases", "hotspots", "forecast", "patrols"):
        box = f"#layer-{layer}"
        if page.is_disabled(box):
            continue
        if (layer in keep) != page.is_checked(box):
            page.click(box)


def _requests_to(page: Any, path: str) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(u).query) for u in page.log.requests if urlsplit(u).path == path]


def test_hotspots_render_and_the_cell_panel_matches_the_api(live_server: str, page: Any,
                                                            ucdp_events: int,
                                                            role_token: Any) -> None:
    token = role_token(Role.operations)
    sign_in(page, live_server, token)
    assert wait_layer(page, "hotspots") == "ok"
    for layer in ("incidents", "warnings", "bases"):
        wait_layer(page, layer)
    # features present in the map's source, exactly those the API answers for the page's query
    query = _requests_to(page, "/api/v1/hotspots")[-1]
    api = httpx.get(f"{live_server}/api/v1/hotspots",
                    params={k: v[0] for k, v in query.items()}, headers=_bearer(token)).json()
    ids = page.evaluate("kinga.state.data.hotspots.features.map(f => f.id)")
    assert ids and sorted(ids) == sorted(f["id"] for f in api["features"])
    _only(page, "hotspots")
    map_idle(page)
    assert page.evaluate("kinga.map.querySourceFeatures('hotspots').length") > 0
    assert page.evaluate("kinga.map.queryRenderedFeatures({layers: ['hotspots-fill']}).length") > 0

    # a non-blank canvas, and the hexagons account for a visible share of its pixels
    shown = page.evaluate(SNAPSHOT, "snapA")
    assert shown["colours"] >= 4
    page.click("#layer-hotspots")
    map_idle(page)
    page.evaluate(SNAPSHOT, "snapB")
    assert page.evaluate(DIFF) > 0.002
    page.click("#layer-hotspots")
    map_idle(page)

    # click a hexagon; the panel says what GET /api/v1/hotspots/{cell} says
    target = page.evaluate(PICK_CELL)
    assert target is not None, "no hexagon well inside the view"
    page.mouse.click(target["x"], target["y"])
    panel = page.wait_for_selector(f'#panel:not([hidden])[data-cell="{target["id"]}"]')
    page.wait_for_selector("#panel .facts")
    url = panel.get_attribute("data-source-url")
    assert url and url.startswith(f"/api/v1/hotspots/{target['id']}?")
    detail = httpx.get(f"{live_server}{url}", headers=_bearer(token)).json()
    props = detail["properties"]
    assert detail["cell"] == target["id"] and props is not None

    def field(name: str) -> str:
        return page.text_content(f'#panel [data-field="{name}"]').strip()

    assert target["id"] in page.text_content("#panel-title")
    assert field("threat_score") == js_number(props["threat_score"])
    assert field("threat_level") == props["threat_level"]
    assert field("protection_tier") == props["protection_tier"]
    assert field("pattern") == (human(props["pattern"]) if props["pattern"] else "—")
    assert field("incidents") == str(props["incidents"])
    assert field("fatalities") == js_number(props["fatalities"])
    assert field("trend").startswith(props["trend"]["direction"])
    bars = page.evaluate("""[...document.querySelectorAll('#panel svg.chart rect.bar')]
        .map(r => [r.dataset.period, Number(r.dataset.value)])""")
    # every week of the API's series is a bar with its count; the other bars are empty weeks
    counts = {w["week"][:10]: w["incidents"] or 0 for w in detail["weekly"]}
    assert {p for p, _ in bars} >= set(counts)
    assert all(v == counts.get(p, 0) for p, v in bars)
    assert len(bars) >= 52  # the whole one-year window is on the time axis
    shown_categories = page.evaluate("""[...document.querySelectorAll(
        '#panel [data-field="categories"] li')].map(li => li.textContent)""")
    assert shown_categories == [f"{human(c['category'])}{c['incidents']}"
                                for c in detail["categories"]]
    shown_perps = page.evaluate("""[...document.querySelectorAll(
        '#panel [data-field="perpetrators"] li')].map(li => li.textContent)""")
    assert shown_perps == [f"{p['name']}{p['incidents']}" for p in detail["perpetrators"]]
    assert page.locator('#panel [data-field="incidents"] li').count() == min(
        10, len(detail["incidents"]))
    page.screenshot(path=str(artifacts_dir() / "map-1366x768-panel.png"))

    page.keyboard.press("Escape")
    assert page.is_hidden("#panel")
    assert page.log.foreign_requests() == []
    assert page.log.errors == []


def test_time_and_filters_requery_the_layers(live_server: str, page: Any, ucdp_events: int,
                                             role_token: Any) -> None:
    token = role_token(Role.analyst)
    sign_in(page, live_server, token)
    wait_layer(page, "hotspots")
    as_of = page.input_value("#as-of")
    page.select_option("#window", "90")
    page.fill("#as-of", "2020-06-30")
    with page.expect_response(lambda r: "/api/v1/hotspots?" in r.url):
        page.click("#apply")
    assert wait_layer(page, "hotspots") == "ok"
    assert wait_layer(page, "incidents") == "ok"
    last = _requests_to(page, "/api/v1/hotspots")[-1]
    assert last["as_of"] == ["2020-06-30"] and last["window_days"] == ["90"]
    inc = _requests_to(page, "/api/v1/incidents")[-1]
    assert inc["start"] == ["2020-04-02"] and inc["end"] == ["2020-06-30"]
    dates = page.evaluate(
        "kinga.state.data.incidents.features.map(f => f.properties.occurred_start)")
    assert dates and all("2020-04-02" <= d[:10] <= "2020-06-30" for d in dates)
    api = httpx.get(f"{live_server}/api/v1/hotspots", params={k: v[0] for k, v in last.items()},
                    headers=_bearer(token)).json()
    ids = page.evaluate("kinga.state.data.hotspots.features.map(f => f.id)")
    assert sorted(ids) == sorted(f["id"] for f in api["features"])

    with page.expect_response(lambda r: "/api/v1/hotspots?" in r.url):
        page.click("#step-back")  # one window earlier
    wait_layer(page, "hotspots")
    assert _requests_to(page, "/api/v1/hotspots")[-1]["as_of"] == ["2020-04-01"]

    with page.expect_response(lambda r: "/api/v1/incidents?" in r.url):
        page.select_option("#category", "killing")
    assert wait_layer(page, "incidents") == "ok"
    wait_layer(page, "hotspots")
    assert _requests_to(page, "/api/v1/hotspots")[-1]["category"] == ["killing"]
    cats = page.evaluate("kinga.state.data.incidents.features.map(f => f.properties.category)")
    assert set(cats) <= {"killing"}
    with page.expect_response(lambda r: "/api/v1/incidents?" in r.url):
        page.select_option("#min-grade", "a")
    wait_layer(page, "incidents")
    assert _requests_to(page, "/api/v1/incidents")[-1]["min_grade"] == ["a"]
    assert as_of != "2020-06-30"
    assert page.log.errors == []


def test_controls_work_from_the_keyboard(live_server: str, page: Any, ucdp_events: int,
                                         role_token: Any) -> None:
    page.goto(f"{live_server}/map")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "token"
    page.keyboard.type(role_token(Role.operations))
    page.keyboard.press("Enter")
    page.wait_for_selector("#controls:not([hidden])")
    wait_layer(page, "hotspots")
    page.focus("#layer-incidents")
    page.keyboard.press("Space")
    assert not page.is_checked("#layer-incidents")
    assert page.evaluate("kinga.map.getLayoutProperty('incidents-point', 'visibility')") == "none"
    page.focus("#top-cells button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#panel:not([hidden]) .facts")
    assert page.evaluate("document.activeElement.id") == "panel"
    page.keyboard.press("Escape")
    assert page.is_hidden("#panel")
    assert page.log.errors == []


def test_partner_sees_the_sanitised_layers_only(live_server: str, page: Any, ucdp_events: int,
                                                role_token: Any) -> None:
    sign_in(page, live_server, role_token(Role.partner))
    assert wait_layer(page, "hotspots") == "ok"
    assert wait_layer(page, "warnings") in ("forbidden", "unavailable")
    with page.expect_response(lambda r: "/api/v1/hotspots?" in r.url):
        page.evaluate("kinga.map.jumpTo({zoom: 11, center: [18.56, 4.39]})")
    wait_layer(page, "hotspots")
    assert all(int(q["res"][0]) <= 6 for q in _requests_to(page, "/api/v1/hotspots"))
    with page.expect_response(lambda r: "/api/v1/hotspots?" in r.url):
        page.evaluate("kinga.map.jumpTo({zoom: 5.4, center: [20.9, 6.6]})")
    wait_layer(page, "hotspots")
    page.focus("#top-cells button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#panel:not([hidden]) .facts")
    assert page.locator('#panel [data-field="perpetrators"] li').count() == 0
    assert page.locator('#panel [data-field="incidents"] li').count() == 0
    assert page.log.foreign_requests() == []
    assert page.log.errors == []
