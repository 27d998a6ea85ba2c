"""Test harness: a real PostGIS (the project's local cluster, or KINGA_DATABASE_URL's server), a
fresh test database migrated once per session, and every table emptied after each test."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest

from app.cli.support import create_token
from app.db import libpq_url
from app.domain import Role
from app.main import create_app
from app.settings import Settings
from tests.support.db import fresh_database

TEST_DB = os.environ.get("KINGA_TEST_DB", "kinga_test")
KEEP_TABLES = {"spatial_ref_sys", "alembic_version", "api_token"}


@pytest.fixture(scope="session")
def settings() -> Settings:
    url = fresh_database(TEST_DB)
    # The threat layer's SQL path (tests/api/threat/test_event_store.py runs the event store);
    # scheduled briefs off (the brief tests run the job themselves). The rule scan and the overdue
    # check run once at start-up and then only when a test runs them (scheduler.run_job): a scan
    # in the middle of another test would add warnings to it.
    # tests/api/warnings/test_loop_end_to_end.py runs its own app with them on short intervals.
    # Partners read sanitised warnings (the mission shares them); a test turns that off.
    # Triage in a thread: tests patch settings and functions triage reads, which a child process
    # would not see (tests/api/alerts/test_triage_process.py runs the process).
    return Settings(database_url=url, environment="test", max_body_bytes=200_000,
                    threat_event_store=False, brief_schedule=False,
                    rule_scan_minutes=24 * 60, overdue_check_s=24 * 3600,
                    partner_warnings_shared=True, alert_triage_process=False)


@pytest.fixture(scope="session")
def db_url(settings: Settings) -> str:
    assert settings.database_url is not None
    return libpq_url(settings.database_url.get_secret_value())


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(db_url) as c:
        yield c


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Empty every table after a test. Async on purpose: while the TRUNCATE waits for its locks
    the event loop keeps running, so the app's background workers on it (webhook dispatcher,
    scheduler) finish the transaction they are in instead of blocking the TRUNCATE for ever."""
    uses_db = "settings" in request.fixturenames
    url = request.getfixturevalue("db_url") if uses_db else None
    yield
    if url is None:
        return
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as c:
        rows = await (await c.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).fetchall()
        tables = [r[0] for r in rows if r[0] not in KEEP_TABLES]
        if not tables:
            return
        # A deadlock with a worker's transaction is retried, never a test failure.
        for attempt in range(20):
            try:
                await c.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
                return
            except psycopg.errors.DeadlockDetected:
                if attempt == 19:
                    raise
                await asyncio.sleep(0.05)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://kinga.test") as c:
        yield c


@pytest.fixture(scope="session")
def tokens(settings: Settings) -> dict[str, str]:
    return {r.value: create_token(settings, r, f"test-{r.value}") for r in Role}


@pytest.fixture(scope="session")
def auth(tokens: dict[str, str]) -> Callable[[str], dict[str, str]]:
    def _auth(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}
    return _auth


def incident_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "occurred_start": "2024-03-02T21:00:00Z", "latitude": 4.39, "longitude": 18.56,
        "category": "killing", "fatalities_best": 2, "perpetrators": ["Unknown armed men"],
        "narrative": "Two men killed at the market.",
        "report": {"section": "civil_affairs", "source_reliability": "B",
                   "information_credibility": 2, "reporter_ref": "CAN focal point 17"},
    }
    body.update(over)
    return body


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    for the rest of the session, which async tests collected after it cannot share."""
    items.sort(key=lambda item: "tests/browser/" in str(item.path).replace("\\", "/"))
