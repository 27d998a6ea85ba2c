"""Whom a brief is for: the whole store, a mission, or one area of responsibility (field office
or sector) inside it. The scope gives the area every figure is clipped to and the clock the
period is counted in.

Kinga has no registry of missions and AORs yet (docs/missions.md will bring it): until then the
store is the mission, its clock is KINGA_MISSION_UTC_OFFSET_HOURS, and a named mission or AOR is
refused as unknown (422) rather than silently ignored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.settings import Settings


@dataclass(frozen=True)
class Scope:
    mission: str | None
    aor: str | None
    name: str
    tz: tzinfo
    area: dict[str, Any] | None  # GeoJSON (Multi)Polygon every figure is clipped to

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        if self.area is None:
            return None
        from shapely.geometry import shape

        x1, y1, x2, y2 = shape(self.area).bounds
        return (x1, y1, x2, y2)


def default_tz(settings: Settings) -> tzinfo:
    return timezone(timedelta(hours=settings.mission_utc_offset_hours))


async def resolve(session: AsyncSession, settings: Settings, mission: str | None,
                  aor: str | None) -> Scope:
    if mission is not None:
        raise InvalidInput(f"unknown mission {mission!r}",
                           errors=[{"pointer": "/query/mission", "detail": "no such mission"}])
    if aor is not None:
        raise InvalidInput(f"unknown area of responsibility {aor!r}",
                           errors=[{"pointer": "/query/aor",
                                    "detail": "no such AOR in the mission"}])
    return Scope(None, None, "All areas", default_tz(settings), None)


async def schedule_scopes(session: AsyncSession, settings: Settings) -> list[Scope]:
    """The scopes scheduled briefs are generated for."""
    return [await resolve(session, settings, None, None)]
