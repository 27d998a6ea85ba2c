"""Low bandwidth in the browser: bytes on the wire for a cold load, a repeat load and an unchanged
layer refresh (Chromium's own network log, CDP `encodedDataLength`); the service worker's stale
picture with the server stopped; a queued incident stored once when the server returns; axe-core
on every screen."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import psycopg
import pytest

from app.domain import Role
from tests.browser.conftest import ARTIFACTS, needs_chromium, sign_in, wait_layer
from tests.browser.workbench.helpers import open_screen, serious_violations
from tests.support.server import free_port, served_app

pytestmark = needs_chromium

COLD_MAX = 600_000
REPEAT_MAX = 50_000


class WireLog:
    """Bytes received per request, from the DevTools protocol (compressed size on the wire)."""

    def __init__(self, page: Any) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        self.urls: dict[str, str] = {}
        self.status: dict[str, int] = {}
        self.bytes: dict[str, int] = {}
        self.wire: dict[str, int] = {}
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        # the status on the wire (a revalidated cache entry reaches the page as its 200)
        self.cdp.on("Network.responseReceivedExtraInfo", self._wire_status)

    def _wire_status(self, e: dict[str, Any]) -> None:
        self.wire[e["requestId"]] = e["statusCode"]

    def _response(self, e: dict[str, Any]) -> None:
        self.urls[e["requestId"]] = e["response"]["url"]
        self.status[e["requestId"]] = e["response"]["status"]

    def _finished(self, e: dict[str, Any]) -> None:
        self.bytes[e["requestId"]] = int(e["encodedDataLength"])

    def reset(self) -> None:
        for d in (self.urls, self.status, self.bytes, self.wire):
            d.clear()

    def total(self) -> int:
        return sum(self.bytes.values())

    def entries(self) -> list[dict[str, Any]]:
        return [{"url": self.urls.get(k, "?").split("?")[0],
                 "status": self.wire.get(k, self.status.get(k)), "bytes": v}
                for k, v in self.bytes.items()]


def _settle(page: Any) -> None:
    page.wait_for_load_state("networkidle")


def test_transfer_sizes_cold_repeat_and_an_unchanged_layer(
        live_server: str, page: Any, ucdp_events: int, role_token: Any) -> None:
    wire = WireLog(page)
    sign_in(page, live_server, role_token(Role.analyst))
    assert wait_layer(page, "hotspots") == "ok"
    _settle(page)
    cold = wire.total()
    cold_entries = wire.entries()

    wire.reset()
    page.reload()  # the token is in session storage: the page signs itself in again
    page.wait_for_selector("body[data-ready=true]")
    assert wait_layer(page, "hotspots") == "ok"
    _settle(page)
    repeat = wire.total()
    repeat_entries = wire.entries()

    wire.reset()
    page.evaluate("() => window.kinga.refresh((d) => d.id === 'hotspots')")
    _settle(page)
    layer = [e for e in wire.entries() if "/api/v1/hotspots" in e["url"]]
    figures = {"cold_bytes": cold, "repeat_bytes": repeat, "layer_refresh": layer,
               "cold": cold_entries, "repeat": repeat_entries}
    (ARTIFACTS / "transfer-sizes.json").write_text(json.dumps(figures, indent=1))
    print(f"\ntransfer: cold {cold} B, repeat {repeat} B, unchanged layer {layer}")
    assert cold <= COLD_MAX, cold_entries
    assert repeat <= REPEAT_MAX, repeat_entries
    assert layer and all(e["status"] == 304 for e in layer), layer


def test_offline_the_last_layers_show_marked_stale_and_a_queued_incident_is_stored_once(
        sw_page: Any, settings: Any, db_url: str, ucdp_events: int, role_token: Any) -> None:
    page = sw_page
    port = free_port()
    log = ARTIFACTS / "server-offline.log"
    with served_app(db_url, log, env={"KINGA_BRIEF_SCHEDULE": "false"}, port=port) as (base, _):
        sign_in(page, base, role_token(Role.operations))
        assert wait_layer(page, "hotspots") == "ok"
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        page.reload()  # everything the page asks for now passes the worker and is kept
        page.wait_for_selector("body[data-ready=true]")
        assert wait_layer(page, "hotspots") == "ok"
        shown = page.evaluate("() => window.kinga.state.data.hotspots.features.length")
    # the server is stopped
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{base}/api/v1/health", timeout=2)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert wait_layer(page, "hotspots") == "ok"
    assert page.evaluate("() => window.kinga.state.data.hotspots.features.length") == shown
    page.wait_for_selector("body[data-stale=true]")
    assert page.is_visible("#net")

    page.click('[data-screen="incidents"]')
    page.fill("#inc-lat", "6.4928")
    page.fill("#inc-lon", "20.6603")
    page.fill("#inc-narrative", "recorded while the link was down")
    page.click("#incident-form button[type=submit]")
    page.wait_for_selector("#incident-result.queued")
    assert page.is_visible("#queue-note")

    with served_app(db_url, log, env={"KINGA_BRIEF_SCHEDULE": "false"}, port=port):
        page.wait_for_selector("#queue-note", state="hidden", timeout=60_000)
        time.sleep(1)  # a second flush would have happened by now if the queue had kept it
    with psycopg.connect(db_url) as c:
        n = c.execute("SELECT count(*) FROM incident WHERE narrative = %s",
                      ("recorded while the link was down",)).fetchone()[0]
    assert n == 1


@pytest.fixture
def axe_page(chromium: Any, request: pytest.FixtureRequest) -> Any:
    """The page with its CSP bypassed so that the test may inject axe-core (never shipped)."""
    from tests.browser.conftest import _page
    yield from _page(chromium, request, service_workers="block", bypass_csp=True)


def test_every_screen_has_no_serious_accessibility_violations(
        live_server: str, axe_page: Any, ucdp_events: int, role_token: Any) -> None:
    page = axe_page
    page.goto(f"{live_server}/map")
    assert serious_violations(page) == []  # the sign-in screen
    open_screen(page, live_server, role_token(Role.admin), "map")
    found = {}
    for screen in ("map", "triage", "warnings", "incidents", "validation", "patrols", "footprint"):
        page.click(f'.nav-btn[data-screen="{screen}"]')
        page.wait_for_selector(f"#screen-{screen}:not([hidden])")
        page.wait_for_timeout(300)  # lists fill in after their request: let them render
        found[screen] = serious_violations(page)
    assert found == {s: [] for s in found}
