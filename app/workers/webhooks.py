"""The webhook dispatcher of a server process: sends queued warning deliveries (what a delivery
is: app/services/warnings/webhooks.py) on the request loop, as they are all network waits.

It is woken after every commit that queued a delivery (the sessionmakers' outbox hook, from any
thread) and polls every `webhook_poll_s` for retries whose backoff has passed and for deliveries
queued by other processes. No transaction is held while it waits on a subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.services.warnings import webhooks
from app.settings import Settings

log = logging.getLogger("kinga.workers.webhooks")


class WebhookDispatcher:
    def __init__(self, maker: async_sessionmaker[AsyncSession] | None, settings: Settings) -> None:
        self.maker = maker
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._lock = asyncio.Lock()

    def start(self, maker: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.maker = maker or self.maker
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._client = webhooks.delivery_client(self.settings)
        self._task = self._loop.create_task(self._run(), name="kinga-webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    def notify(self) -> None:
        """Deliveries were committed: send them now. Safe from any thread."""
        if self._loop is None or self._wake is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def drain(self) -> int:
        """Send everything due now (tests; a caller that must know deliveries went out)."""
        assert self.maker is not None
        async with self._lock:
            return await webhooks.deliver_all_due(self.maker, self.settings, self._client)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                await self.drain()
            except DBAPIError as exc:  # database down: deliveries wait in their table
                log.warning("webhook dispatch paused: %s", type(exc).__name__)
            except Exception:
                log.exception("webhook dispatcher error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_s)
            self._wake.clear()
