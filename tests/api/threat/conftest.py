"""Fixtures of the threat-layer API tests: the app served with the in-process event store."""

import asyncio

import pytest

from app.main import create_app
from app.services.threat import event_store


async def serve(settings, poll_s):
    import httpx

    application = create_app(settings.model_copy(update={"threat_event_store": True,
                                                          "threat_warm_poll_s": poll_s}))
    transport = httpx.ASGITransport(app=application)
    async with (application.router.lifespan_context(application),
                httpx.AsyncClient(transport=transport, base_url="http://kinga.test") as c):
        # No periodic jobs here: a start-up job's transaction on this loop could hold the
        # data-version lock while a test's synchronous write waits for it on the same loop.
        await application.state.workers.scheduler.stop()
        yield c, application
    assert event_store._loader is None  # stopped with the app


@pytest.fixture
async def store_client(settings):
    """The app with the store; its warm-up worker idle after the first round (the tests drive
    the store, and count how layers were answered)."""
    async for served in serve(settings, 3600):
        await asyncio.wait_for(served[1].state.threat_warmup.ready.wait(), 60)
        yield served


@pytest.fixture
async def polling_client(settings):
    async for served in serve(settings, 0.05):
        yield served
