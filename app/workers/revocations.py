"""Revocations heard by every server process: a LISTEN on the database (channel of
app.repositories.tokens), so a token or integration revoked anywhere (API, CLI, another process
or server) is refused here as soon as the revoking transaction commits, not after a cache's TTL.

While the listener is connected, integration tokens and rows may be cached
(`Revocations.listening`); when it loses the connection it empties the caches and nothing is
cached until it listens again (each request then looks its token up).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from app.repositories import tokens as token_repo
from app.services.alerts import integrations as integ_svc
from app.services.auth import Revocations

log = logging.getLogger("kinga.workers.revocations")


class RevocationListener:
    def __init__(self, engine: AsyncEngine, *, idle_s: float = 15.0, retry_s: float = 1.0,
                 forget: Callable[[], None] = integ_svc.forget_cached) -> None:
        self.engine = engine
        self.idle_s = idle_s
        self.retry_s = retry_s
        self.forget = forget
        self.heard = 0  # revocations heard (observability and tests)
        self.listening = asyncio.Event()
        self._heard = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="kinga-revocations")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._deaf()

    async def wait_heard(self, count: int, timeout: float) -> bool:
        """Tests and benches: wait until `count` revocations have been heard."""
        async with self._heard:
            try:
                await asyncio.wait_for(self._heard.wait_for(lambda: self.heard >= count), timeout)
            except TimeoutError:
                return False
        return True

    def _deaf(self) -> None:
        Revocations.listening = False
        self.listening.clear()
        self.forget()

    async def _run(self) -> None:
        while True:
            try:
                async with self.engine.connect() as conn:
                    await conn.execution_options(isolation_level="AUTOCOMMIT")
                    first = True
                    async for token_id in token_repo.revocations(conn, idle_s=self.idle_s):
                        if first:  # listening from here on; what was cached before may be stale
                            self.forget()
                            Revocations.listening = True
                            self.listening.set()
                            first = False
                        if token_id is not None:
                            self.forget()
                            async with self._heard:
                                self.heard += 1
                                self._heard.notify_all()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: deaf until reconnected
                log.warning("revocation listener disconnected: %s", type(exc).__name__)
            self._deaf()
            await asyncio.sleep(self.retry_s)
