"""The alert triage worker of a server process (what it does: app/services/alerts/triage.py).

It runs in a thread of its own with its own event loop: triage is CPU-bound Python (matching,
grading, rules: ~17 ms an alert) and on the request loop it would stall every request behind a
batch; in a thread the interpreter switches to the request loop every few milliseconds. The
lifespan hands it an engine of its own (an async engine's connections belong to the loop that
opened them); the worker disposes of it on its loop when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import make_sessionmaker
from app.services.alerts.triage import drain
from app.settings import Settings

log = logging.getLogger("kinga.workers.triage")


class TriageWorker:
    """Drains the triage queue when an intake wakes it and every poll interval. `on_outbox` runs
    (on the worker's thread) after each of its commits that queued webhook deliveries."""

    def __init__(
        self, settings: Settings, engine: AsyncEngine, *, on_outbox: Callable[[], None] | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.on_outbox = on_outbox
        self.pause = threading.Lock()  # hold it to keep triage off (tests: the state before triage)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.last_intake = 0.0

    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(ready,), name="kinga-triage", daemon=True)
        self._thread.start()
        ready.wait()

    async def stop(self) -> None:
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 30)

    def notify(self) -> None:
        """An intake just committed: triage soon, but let intake have the CPU while it is busy."""
        self.last_intake = time.monotonic()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def drain(self) -> int:
        """Triage everything stored so far (tests and shutdown paths wait on this)."""
        assert self._loop is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._drain_once(), self._loop))

    # --- on the worker's own loop ---
    def _main(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._wake = asyncio.Event()
        self._serial = asyncio.Lock()
        self._maker = make_sessionmaker(self.engine, on_outbox=self.on_outbox)
        self._task = loop.create_task(self._run())
        ready.set()
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(self._task)
        loop.run_until_complete(self.engine.dispose())
        loop.close()

    async def _yield_to_intake(self) -> None:
        """Intake first: while alerts keep arriving (one within the last 50 ms), wait, but never
        more than `alert_triage_max_defer_s` between batches, so triage keeps moving under load."""
        deadline = time.monotonic() + self.settings.alert_triage_max_defer_s
        while time.monotonic() - self.last_intake < 0.05 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    @contextlib.asynccontextmanager
    async def _gate(self) -> AsyncIterator[None]:
        await self._yield_to_intake()
        async with self._serial:
            while not self.pause.acquire(blocking=False):
                await asyncio.sleep(0.01)
            try:
                yield
            finally:
                self.pause.release()

    async def _drain_once(self) -> int:
        return await drain(self._maker, self.settings, gate=self._gate)

    async def _run(self) -> None:
        while True:
            try:
                await self._drain_once()
            except DBAPIError as exc:  # database down: the alerts wait in the table
                log.warning("triage paused: %s", type(exc).__name__)
                await asyncio.sleep(self.settings.alert_triage_poll_s)
            except Exception:
                log.exception("triage worker error")
                await asyncio.sleep(self.settings.alert_triage_poll_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.alert_triage_poll_s)
            self._wake.clear()
