"""Browser harness: the real service in a uvicorn subprocess on a free loopback port, against the
test database, driven by Debian's headless Chromium through Playwright (no browser downloads)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from app.cli.support import create_token
from app.domain import Role
from app.services.incidents.import_pipeline import import_file
from app.settings import PROJECT_ROOT, Settings
from tests.conftest import KEEP_TABLES
from tests.support.server import ServerDied, served_app

CHROMIUM = os.environ.get("KINGA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    # WebGL through SwiftShader (software): MapLibre needs a GL context and there is no GPU.
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
]
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
VIEWPORT = {"width": 1366, "height": 768}
STARTUP_DEADLINE_S = 180.0  # a readiness deadline (imports take long on a loaded machine), not a timing assertion
LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1)$")

needs_chromium = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not "
                                    "installed (make test runs scripts/install-chromium.sh)")


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Browser tests are synchronous (Playwright's sync API owns the thread's event loop) and
    talk to a server in another process, so their tables are emptied synchronously."""
    uses_db = "settings" in request.fixturenames
    url = request.getfixturevalue("db_url") if uses_db else None
    yield
    if url is None:
        return
    with psycopg.connect(url, autocommit=True) as c:
        tables = [r[0] for r in c.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
            if r[0] not in KEEP_TABLES]
        for attempt in range(5):  # the live server's background jobs read these tables too: a
            try:                  # TRUNCATE can deadlock with one, and PostgreSQL aborts it
                if tables:
                    c.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
                break
            except psycopg.errors.DeadlockDetected:
                if attempt == 4:
                    raise


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[str]:
    """`uvicorn app.main:app` on 127.0.0.1:<free port>; yields its base URL once /health answers."""
    assert settings.database_url is not None
    try:
        # Scheduled briefs off, as in the in-process app (tests/conftest.py).
        with served_app(settings.database_url.get_secret_value(), ARTIFACTS / "server.log",
                        env={"KINGA_BRIEF_SCHEDULE": "false"},
                        ready_within_s=STARTUP_DEADLINE_S) as (base, _proc):
            yield base
    except ServerDied as exc:
        pytest.fail(str(exc))


@pytest.fixture
def ucdp_events(db_url: str, settings: Settings) -> int:
    """The bundled real UCDP CAR events (tables are emptied after every test, so per test)."""
    with psycopg.connect(db_url) as c:
        summary = import_file(c, "ucdp", settings.geodata_dir / "ucdp-ged-v23.1-caf.geojson",
                              actor="test:browser", h3_res=settings.h3_resolution,
                              status="approved")
    return summary.inserted + summary.duplicates


@pytest.fixture
def minusca_bases(db_url: str, settings: Settings) -> int:
    """The bundled Geo-PKO MINUSCA deployments as the bases registry (per test, like the events)."""
    from app.repositories.bases import import_rows
    from app.services.bases.registry import geopko_bases

    rows = geopko_bases(settings.geodata_dir / "geopko-minusca-deployments.csv",
                        settings.troops_per_road_patrol, settings.troops_per_foot_patrol)
    with psycopg.connect(db_url) as c:
        import_rows(c, rows, actor="test:browser")
    return len(rows)


@pytest.fixture(scope="session")
def role_token(settings: Settings) -> Any:
    made: dict[Role, str] = {}

    def _token(role: Role) -> str:
        if role not in made:
            name = f"browser-{role.value}-{uuid.uuid4().hex[:8]}"
            made[role] = create_token(settings, role, name)
        return made[role]
    return _token


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


MAX_LOGGED = 5000  # a page in a request loop must not take the test process's memory with it


class PageLog:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dropped = 0

    def request(self, url: str) -> None:
        if len(self.requests) < MAX_LOGGED:
            self.requests.append(url)
        else:
            self.dropped += 1

    def error(self, text: str) -> None:
        if len(self.errors) < MAX_LOGGED:
            self.errors.append(text[:2000])

    def foreign_requests(self) -> list[str]:
        """Requests to anything but this machine's loopback (data:/blob: stay in the page)."""
        out = []
        for url in self.requests:
            scheme, _, rest = url.partition(":")
            if scheme in ("data", "blob", "about"):
                continue
            host = httpx.URL(url).host
            if not LOOPBACK.match(host):
                out.append(url)
        return out


def _page(chromium: Any, request: pytest.FixtureRequest, **options: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=VIEWPORT, **options)
    pg = context.new_page()
    log = PageLog()
    pg.on("request", lambda r: log.request(r.url))
    pg.on("pageerror", lambda e: log.error(str(e)))
    pg.log = log
    yield pg
    failed = any(getattr(getattr(request.node, f"rep_{w}", None), "failed", False)
                 for w in ("setup", "call"))
    if failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()
    assert log.dropped == 0, f"the page made over {MAX_LOGGED} requests (a request loop?)"


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A 1366×768 page; its requests and script errors are recorded; a screenshot on failure.
    The page's service worker is blocked (Playwright's request routing does not see requests a
    service worker answers); the offline tests use `sw_page`."""
    yield from _page(chromium, request, service_workers="block")


@pytest.fixture
def sw_page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Like `page`, with the workbench's service worker allowed (offline shell, stale layers)."""
    yield from _page(chromium, request, service_workers="allow")


def sign_in(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/map")
    page.fill("#token", token)
    page.press("#token", "Enter")
    page.wait_for_selector("#controls:not([hidden])")


def wait_layer(page: Any, layer: str, states: str = "ok,unavailable,error,forbidden") -> str:
    sel = ",".join(f'[data-layer="{layer}"][data-status="{s}"]' for s in states.split(","))
    page.wait_for_selector(sel, state="attached")
    return str(page.get_attribute(f'[data-layer="{layer}"]', "data-status"))


def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def map_idle(page: Any) -> None:
    """Resolves once MapLibre has drawn everything it has (forces one frame, then waits idle)."""
    page.evaluate("""() => new Promise((resolve) => {
        const m = window.kinga.map; m.once('idle', resolve); m.triggerRepaint(); })""")


def human(code: Any) -> str:
    return str(code).replace("_", " ")


def js_number(value: Any) -> str:
    """The page's number formatting: integers as is, other numbers to one decimal."""
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value))
