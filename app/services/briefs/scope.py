"""Whom a brief is for: the whole store, a mission, or one area of responsibility (field office
or sector) inside it. The scope gives the area every figure is clipped to and the clock the
period is counted in (the mission's IANA time zone, docs/missions.md). A named mission or AOR
that does not exist is refused (422 with its pointer), never silently ignored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import missions as missions_repo
from app.services.forecast.area import ForecastArea, scope_area
from app.services.missions import registry
from app.settings import Settings

ALL_AREAS = "All areas"


@dataclass(frozen=True)
class Scope:
    mission: str | None
    aor: str | None
    name: str
    tz: tzinfo
    area: dict[str, Any] | None  # GeoJSON (Multi)Polygon every figure is clipped to
    forecast_area: ForecastArea | None = None  # what the brief's forecast covers

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        if self.area is None:
            return None
        from shapely.geometry import shape

        x1, y1, x2, y2 = shape(self.area).bounds
        return (x1, y1, x2, y2)


async def resolve(session: AsyncSession, settings: Settings, mission: str | None,
                  aor: str | None, *, token_mission: str | None = None,
                  token_aor: Any = None, pointer: str = "/query/mission") -> Scope:
    """The brief's scope: no mission = the whole store on the default mission's clock."""
    s = await registry.scope(session, settings, mission, aor=aor, token_mission=token_mission,
                             token_aor=token_aor, pointer=pointer)
    if s.aor is not None:
        name = f"{s.mission.name}, {s.aor['name']}"
    else:
        name = s.mission.name if s.clip else ALL_AREAS
    return Scope(s.code, str(s.aor["id"]) if s.aor else None, name, s.mission.zone, s.area,
                 scope_area(settings, s))


async def schedule_scopes(session: AsyncSession, settings: Settings) -> list[Scope]:
    """The scopes scheduled briefs are generated for: every stored mission, or the whole store
    when none is stored."""
    codes = [str(r["code"]) for r in await missions_repo.list_missions(session)]
    if not codes:
        return [await resolve(session, settings, None, None)]
    return [await resolve(session, settings, code, None) for code in codes]
