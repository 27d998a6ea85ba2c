"""The alert triage worker of a server process (what it does: app/services/alerts/triage.py).

Triage is CPU-bound Python (matching, grading, rules: ~15-25 ms an alert, several times what
storing the alert costs), so where it runs decides how much intake a process can take:

- `TriageProcess` (the default, `KINGA_ALERT_TRIAGE_PROCESS=true`): `alert_triage_processes`
  child processes the lifespan spawns, stops and restarts if one dies. Triage then has an
  interpreter (and a core) of its own and never takes the intake process's interpreter lock; it
  runs at a lower CPU priority (`alert_triage_nice`) so that when the cores are short, intake
  goes first. Intake wakes each through a pipe of its own; each wakes the webhook dispatcher of
  the server process through another pipe after a commit that queued deliveries, and ends when
  its server does.
- `TriageWorker` (`KINGA_ALERT_TRIAGE_PROCESS=false`, the test suite): a thread of the server
  process with its own event loop. While intake is busy it waits (at most
  `alert_triage_max_defer_s`) so the two do not fight over the interpreter lock.

Both give the lifespan and the tests the same handles: `notify()` after an intake, `drain()` to
triage everything stored so far in the calling process (deterministic: under `pause`), and
`pause`, a lock that keeps background triage off while held. Each is handed, or makes, an engine
of its own (an async engine's connections belong to the loop that opened them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import select
import threading
import time
from collections.abc import AsyncIterator, Callable
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import make_async_engine, make_sessionmaker
from app.services.alerts.triage import drain
from app.settings import Settings

log = logging.getLogger("kinga.workers.triage")


class TriageWorker:
    """Drains the triage queue when an intake wakes it and every poll interval. `on_outbox` runs
    (on the worker's thread) after each of its commits that queued webhook deliveries."""

    def __init__(
        self, settings: Settings, engine: AsyncEngine, *, on_outbox: Callable[[], None] | None = None,
        pause: Any = None, yield_to_intake: bool = True,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.on_outbox = on_outbox
        # Hold it to keep triage off (tests: the state before triage). A process-shared lock
        # when the worker runs in the triage process.
        self.pause = pause if pause is not None else threading.Lock()
        self.yield_to_intake = yield_to_intake
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
        if self.yield_to_intake:
            await self._yield_to_intake()
        async with self._serial:
            while not self.pause.acquire(False):  # positional: a process lock says `block`
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


# --- the triage process ---------------------------------------------------------------------

def _child_main(settings: Settings, wake: Connection, pause: Any, outbox: Connection,
                parent: int) -> None:
    """The triage process: a TriageWorker woken by the server process's intakes (a byte on the
    `wake` pipe; `s` asks it to stop). It ends with its server: when asked to, or when the server
    died without asking (SIGKILL, OOM): the pipe's end of file, or a new parent process."""
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(OSError):
        os.nice(settings.alert_triage_nice)

    def queued_deliveries() -> None:
        with contextlib.suppress(OSError):
            outbox.send_bytes(b"w")

    worker = TriageWorker(settings, make_async_engine(settings, pool_size=2),
                          on_outbox=queued_deliveries, pause=pause, yield_to_intake=False)
    worker.start()
    fd = wake.fileno()
    try:
        while os.getppid() == parent:
            if not select.select([fd], [], [], settings.alert_triage_poll_s)[0]:
                continue
            got = os.read(fd, 4096)
            if not got or b"s" in got:  # end of file: the server is gone
                break
            worker.notify()
    finally:
        asyncio.run(worker.stop())
        outbox.close()


class _Child:
    """One triage process, the writing end of its wake-up pipe (non-blocking: a wake-up is never
    waited for; a full pipe already means "wake up") and the reading end of its outbox pipe.
    Pipes, not process-shared events: a process killed while it waited on one can leave the
    event's `set()` blocked for good."""

    def __init__(self, proc: Any, wake: Connection, outbox: Connection) -> None:
        self.proc, self.wake, self.outbox = proc, wake, outbox

    def send(self, what: bytes) -> None:
        with contextlib.suppress(OSError):  # full (a wake-up is pending anyway) or closed
            os.write(self.wake.fileno(), what)


class _AllLocks:
    """`pause` over several triage processes: each holds its own lock while it triages a batch
    (so they never wait for one another); holding this holds every one of them."""

    def __init__(self, locks: list[Any]) -> None:
        self.locks = locks

    def acquire(self, block: bool = True) -> bool:
        held: list[Any] = []
        for lock in self.locks:
            if not lock.acquire(block):
                for h in reversed(held):
                    h.release()
                return False
            held.append(lock)
        return True

    def release(self) -> None:
        for lock in reversed(self.locks):
            lock.release()

    def __enter__(self) -> _AllLocks:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class TriageProcess:
    """Triage in `alert_triage_processes` child processes (see the module's docstring); the same
    handles as TriageWorker. The children share one wake-up event and split the queue between them
    with `SKIP LOCKED`; `pause` holds the lock each of them takes per batch. `drain()` triages in
    this process, under `pause`, with the server's own sessionmaker."""

    def __init__(self, settings: Settings, maker: async_sessionmaker[AsyncSession], *,
                 on_outbox: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.maker = maker
        self.on_outbox = on_outbox
        self._ctx = multiprocessing.get_context("spawn")  # never fork a process with threads
        self._children: list[_Child | None] = [None] * settings.alert_triage_processes
        self.pause = self._new_locks()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watch: asyncio.Task[None] | None = None
        self.restarts = 0

    def _new_locks(self) -> _AllLocks:
        return _AllLocks([self._ctx.Lock() for _ in self._children])

    @property
    def pids(self) -> list[int]:
        return [c.proc.pid for c in self._children if c is not None]

    @property
    def pid(self) -> int | None:
        return self.pids[0] if self.pids else None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for i in range(len(self._children)):
            self._spawn(i)
        self._watch = self._loop.create_task(self._supervise(), name="kinga-triage-supervisor")

    def _spawn(self, i: int) -> None:
        assert self._loop is not None
        self._close(i)
        outbox_r, outbox_w = self._ctx.Pipe(duplex=False)
        wake_r, wake_w = self._ctx.Pipe(duplex=False)
        os.set_blocking(wake_w.fileno(), False)
        proc = self._ctx.Process(
            target=_child_main, name=f"kinga-triage-{i}", daemon=True,
            args=(self.settings, wake_r, self.pause.locks[i], outbox_w, os.getpid()))
        proc.start()
        outbox_w.close()  # the child holds the writing end; EOF here when it dies
        wake_r.close()
        child = self._children[i] = _Child(proc, wake_w, outbox_r)
        self._loop.add_reader(outbox_r.fileno(), self._relay_outbox, outbox_r)
        child.send(b"w")  # triage whatever waited while no process ran

    def _close(self, i: int) -> None:
        child = self._children[i]
        if child is not None and self._loop is not None:
            self._loop.remove_reader(child.outbox.fileno())
            child.outbox.close()
            child.wake.close()

    def _relay_outbox(self, outbox: Connection) -> None:
        """A child committed webhook deliveries: wake this process's dispatcher."""
        assert self._loop is not None
        try:
            while outbox.poll():
                outbox.recv_bytes()
        except (EOFError, OSError):  # the child is gone: the supervisor restarts it
            self._loop.remove_reader(outbox.fileno())
        if self.on_outbox is not None:
            self.on_outbox()

    async def _supervise(self) -> None:
        """Restart a triage process that died (an alert that crashes the interpreter, an OOM
        kill): the alerts wait in their table meanwhile. One that died holding its lock would
        leave `pause` stuck, so every process is restarted with new locks."""
        while True:
            await asyncio.sleep(max(self.settings.alert_triage_poll_s, 0.2))
            dead = [i for i, c in enumerate(self._children) if c is not None and not c.proc.is_alive()]
            if not dead:
                continue
            for i in dead:
                child = self._children[i]
                assert child is not None
                log.error("triage process %s exited with %s; restarting it", child.proc.name,
                          child.proc.exitcode)
            self.restarts += len(dead)
            self.pause = self._new_locks()
            # `pause` is replaced whole: restart the living ones too, on their new locks
            for c in self._children:
                if c is not None and c.proc.is_alive():
                    c.proc.terminate()
                    await asyncio.to_thread(c.proc.join, 10)
            for i in range(len(self._children)):
                self._spawn(i)

    def notify(self) -> None:
        """An intake just committed: triage it now (in the other processes)."""
        for child in self._children:
            if child is not None:
                child.send(b"w")

    async def drain(self) -> int:
        """Triage everything stored so far, here, while the triage processes are held off."""
        pause = self.pause
        await asyncio.to_thread(pause.acquire)
        try:
            return await drain(self.maker, self.settings)
        finally:
            pause.release()

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        for child in self._children:
            if child is not None:
                child.send(b"s")
        for i, child in enumerate(self._children):
            if child is None:
                continue
            await asyncio.to_thread(child.proc.join, 30)
            if child.proc.is_alive():
                log.error("triage process %s did not stop in 30 s; terminating it", child.proc.name)
                child.proc.terminate()
                await asyncio.to_thread(child.proc.join, 5)
            self._close(i)
