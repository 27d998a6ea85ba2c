"""Threat-layer warm-up (issue 16): loads the in-process event store and computes the common
layers in the background, at start-up and whenever a write the change log cannot bridge (an
import batch, a truncation) has made the store stale. Never delays readiness: `start` only
creates a task; until the store is loaded, layers are aggregated in SQL, exactly as before.

Started and stopped by the lifespan (app/main.py): `ThreatWarmup(settings).start(maker)` and
`await warmup.stop()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import libpq_url
from app.domain import Role
from app.localdb import resolve_url
from app.repositories import threat_events
from app.services.threat import cell_items as layer_items
from app.services.threat import event_store
from app.services.threat.layer import HotspotQuery, layer_geojson
from app.settings import Settings

log = logging.getLogger("kinga.workers.threat_warmup")

# Seconds without a write the change log cannot bridge (an import batch) before the store is
# rebuilt: longer than the gap between two batches of one import (~1 s), short enough that the
# store is back soon after the import (until then layers are aggregated in SQL, exactly).
SETTLE_S = 2.0


class ThreatWarmup:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.maker: async_sessionmaker[AsyncSession] | None = None
        self._task: asyncio.Task[None] | None = None
        self.warmed = 0  # observability and tests: completed warm-ups
        self.warming = False  # a warm-up is running (reported by /health)
        self._log_since: int | None = None  # data_version.log_since at the last check
        self.settling = False  # stale, waiting for the writes the log cannot bridge to stop
        self.ready = asyncio.Event()  # set after the first warm-up (tests and the bench wait)
        self._wake = asyncio.Event()  # a request found the store stale: rebuild now

    def start(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self.maker = maker
        if not self.settings.threat_event_store:
            event_store.configure(None, 0)
            return

        url = libpq_url(resolve_url(self.settings))

        def load_blocking() -> threat_events.EventColumns | None:
            with psycopg.connect(url) as conn:
                return threat_events.load(conn)

        async def load() -> threat_events.EventColumns | None:
            return await asyncio.to_thread(load_blocking)

        budget = int(self.settings.threat_event_store_share * (self.settings.layer_cache_mb << 20))
        event_store.configure(load, budget, on_stale=self._wake.set)
        self._task = asyncio.get_running_loop().create_task(self._run(),
                                                            name="kinga-threat-warmup")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        event_store.configure(None, 0)

    async def warm(self) -> None:
        """Load the store, then compute the default layer at each configured resolution (the
        analyst's view, a window ending now), which fills the caches and the polygon tables."""
        assert self.maker is not None
        self.warming = True
        try:
            await event_store.reload()
            for res in self.settings.threat_warm_resolutions:
                # the per-cell tables of every cell with data (polygons, neighbour disks), in
                # a thread: the first layer of any window then only aggregates and scores
                cells = event_store.cells_at(res).tolist()
                await asyncio.to_thread(layer_items.warm_cells, cells,
                                        self.settings.hotspot_ring_k)
                async with self.maker() as session:
                    await layer_geojson(session, HotspotQuery(res=res, role=Role.analyst),
                                        self.settings)
                    await session.rollback()
        finally:
            self.warming = False
        self.warmed += 1
        self.ready.set()

    def state(self) -> str:
        """"warming" (a load or the default layers are being computed), "settling" (the store
        is stale and waits for an import's batches to stop), "done" (at least once, nothing
        running or waiting) or "pending" (not yet run)."""
        if self.warming:
            return "warming"
        if self.settling:
            return "settling"
        return "done" if self.warmed else "pending"

    async def _stale(self) -> bool:
        """Has a write happened that the change log cannot bridge to the store's base, and has
        none happened since the last check? An import writes batch after batch that the log
        cannot bridge: the store is rebuilt once, after the last one (SETTLE_S without such a
        write), not after every batch while the import runs (requests are answered in SQL
        meanwhile, exactly). `self.settling` says a rebuild waits for that."""
        assert self.maker is not None
        store = event_store.STORE
        async with self.maker() as session:
            row = await threat_events.version_row(session)
            await session.rollback()
        self.settling = False
        if row is None:
            return False
        settled, self._log_since = row[1] == self._log_since, row[1]
        if store.base is None:  # not loaded yet, or refused (over budget) at an older version
            stale = store.refused_version != row[0]
        else:
            if len(store.delta["t_us"]) > event_store.DELTA_SHARE * max(len(store.base), 1000):
                return True  # logged changes grew large: fold them into a new base now
            stale = row[1] > store.version
        self.settling = stale and not settled
        return stale and settled

    async def _run(self) -> None:
        first = True
        while True:
            try:
                self._wake.clear()
                if first or await self._stale():
                    await self.warm()
                first = False
            except (DBAPIError, psycopg.OperationalError) as exc:  # database down: next round
                log.warning("threat warm-up paused: %s", type(exc).__name__)
            except Exception:
                log.exception("threat warm-up failed")
            poll = self.settings.threat_warm_poll_s
            with contextlib.suppress(TimeoutError):  # a request's call for a rebuild, or a poll
                await asyncio.wait_for(self._wake.wait(),
                                       min(poll, SETTLE_S) if self.settling else poll)
