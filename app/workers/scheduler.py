"""Periodic jobs of the service (warning expiry, retention purges, rule scans, briefs…).

Every server process runs the scheduler; a job runs inside one transaction that first takes a
PostgreSQL advisory lock named after the job, so across processes (and servers) one run at a time
happens and the others skip that round. A job is an idempotent function
`async (session, settings, now) -> int` (how many things it did) that never commits itself: the
scheduler commits, so a crash mid-job leaves nothing half-done. The list of jobs is `JOBS` below:
a new periodic task is one entry there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.repositories import locks
from app.services.briefs.schedule import generate_due_briefs
from app.services.reporters import contacts as reporters
from app.services.retention import jobs as retention
from app.services.warnings import lifecycle as warnings
from app.services.warnings import overdue, rule_scan
from app.settings import Settings

log = logging.getLogger("kinga.workers.scheduler")

JobFn = Callable[[AsyncSession, Settings, datetime], Awaitable[int]]


@dataclass(frozen=True)
class Job:
    name: str
    every_s: Callable[[Settings], float]  # from the settings, so each deployment tunes it
    run: JobFn


JOBS: tuple[Job, ...] = (
    Job("warnings.expire", lambda s: s.warning_expiry_every_s, warnings.expire_due),
    Job("warnings.rule_scan", lambda s: s.rule_scan_minutes * 60, rule_scan.scan_job),
    Job("warnings.overdue", lambda s: s.overdue_check_s, overdue.escalate_overdue),
    Job("briefs.generate_due", lambda s: s.brief_schedule_every_s, generate_due_briefs),
    Job("retention.idempotency_keys", lambda s: s.retention_every_s,
        retention.purge_idempotency_keys),
    Job("retention.webhook_deliveries", lambda s: s.retention_every_s,
        retention.purge_webhook_deliveries),
    Job("retention.quarantine", lambda s: s.retention_every_s, retention.purge_quarantine),
    Job("reporters.blank_expired_contacts", lambda s: s.retention_every_s,
        reporters.purge_expired),
)


class Scheduler:
    def __init__(self, settings: Settings, jobs: Sequence[Job] = JOBS) -> None:
        self.settings = settings
        self.jobs = tuple(jobs)
        self.maker: async_sessionmaker[AsyncSession] | None = None
        self._task: asyncio.Task[None] | None = None
        self.runs: dict[str, int] = {}  # observability and tests: completed runs per job

    def start(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self.maker = maker
        self._task = asyncio.get_running_loop().create_task(self._run(), name="kinga-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run_job(self, name: str, now: datetime | None = None) -> int | None:
        """Run one job now in its own transaction; None if another process holds its lock."""
        assert self.maker is not None
        job = next(j for j in self.jobs if j.name == name)
        async with self.maker() as session:
            if not await locks.try_transaction_lock(session, f"job:{job.name}"):
                return None
            done = await job.run(session, self.settings, now or datetime.now(UTC))
            await session.commit()
        self.runs[job.name] = self.runs.get(job.name, 0) + 1
        return done

    async def _run(self) -> None:
        due = {j.name: 0.0 for j in self.jobs}  # every job runs once at start-up
        while True:
            now = time.monotonic()
            for job in self.jobs:
                if due[job.name] > now:
                    continue
                try:
                    await self.run_job(job.name)
                except DBAPIError as exc:  # database down: try again next interval
                    log.warning("job %s paused: %s", job.name, type(exc).__name__)
                except Exception:
                    log.exception("job %s failed", job.name)
                due[job.name] = time.monotonic() + job.every_s(self.settings)
            await asyncio.sleep(max(0.05, min(due.values()) - time.monotonic()))
