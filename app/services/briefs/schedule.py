"""Scheduled briefs, kept as dated records: every day at KINGA_BRIEF_SCHEDULE_HOUR (06:00)
mission time the brief of the previous day, and on Mondays the brief of the week that ended on
Sunday — both editions, for every scheduled scope. A scheduler calls `generate_due_briefs` as often
as it likes: a brief already kept for the same period, day, scope and edition is not made again
(and a unique index makes two concurrent runs keep one)."""

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


async def generate_due_briefs(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                              *, now: datetime | None = None) -> list[str]:
    """Generate and keep the briefs that are due and not kept yet; returns their ids."""
    now = now or datetime.now(UTC)
    made: list[str] = []
    async with sessionmaker() as session:
        for scope in await scopes.schedule_scopes(session, settings):
            for kind, as_of in due(now, scope.tz, settings.brief_schedule_hour):
                p = periods.parse(kind, as_of, tz=scope.tz, now=now)
                for edition in EDITIONS:
                    if await repo.scheduled_exists(session, period=kind, as_of=as_of,
                                                   mission=scope.mission, aor=scope.aor,
                                                   edition=edition):
                        continue
                    content = await compose(session, settings, p, scope, edition=edition,
                                            now=now)
                    brief = {"id": None, "kept": False, "content": content}
                    if await keep(session, brief, actor=ACTOR, scheduled=True) is not None:
                        made.append(str(brief["id"]))
    return made
