"""Scheduled briefs, kept as dated records: every day at KINGA_BRIEF_SCHEDULE_HOUR (06:00)
mission time the brief of the previous day, and on Mondays the brief of the week that ended on
Sunday — both editions, for every scheduled scope. The scheduler runs `generate_due_briefs` every
KINGA_BRIEF_SCHEDULE_EVERY_S under its advisory lock; a brief already kept for the same period,
day, scope and edition is not made again (and a unique index makes two concurrent runs keep one).
KINGA_BRIEF_SCHEDULE=false switches scheduled briefs off."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.repositories import briefs as repo
from app.services.briefs import period as periods
from app.services.briefs import scope as scopes
from app.services.briefs.compose import EDITIONS, compose
from app.services.briefs.service import keep
from app.settings import Settings

ACTOR = "kinga:scheduler"


def due(now: datetime, tz: tzinfo, hour: int) -> list[tuple[str, date]]:
    """The latest daily and weekly briefs whose time has come at `now` (period, as_of)."""
    local = now.astimezone(tz)
    ran = local.date() if local.hour >= hour else local.date() - timedelta(days=1)
    monday = ran - timedelta(days=ran.weekday())
    return [("day", ran - timedelta(days=1)), ("week", monday - timedelta(days=1))]


async def generate_due_briefs(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """The scheduler's job (app/workers/scheduler.py): generate and keep the briefs that are due
    and not kept yet, in the caller's transaction (the scheduler commits); returns how many."""
    if not settings.brief_schedule:
        return 0
    made = 0
    for scope in await scopes.schedule_scopes(session, settings):
        for kind, as_of in due(now, scope.tz, settings.brief_schedule_hour):
            p = periods.parse(kind, as_of, tz=scope.tz, now=now)
            for edition in EDITIONS:
                if await repo.scheduled_exists(session, period=kind, as_of=as_of,
                                               mission=scope.mission, aor=scope.aor,
                                               edition=edition):
                    continue
                content = await compose(session, settings, p, scope, edition=edition, now=now)
                brief = {"id": None, "kept": False, "content": content}
                if await keep(session, brief, actor=ACTOR, scheduled=True,
                              commit=False) is not None:
                    made += 1
    return made


async def run_once(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, *,
                   now: datetime | None = None) -> int:
    """One run outside the scheduler (`kinga brief --due`, cron): its own committed transaction."""
    async with sessionmaker() as session:
        made = await generate_due_briefs(session, settings, now or datetime.now(UTC))
        await session.commit()
    return made
