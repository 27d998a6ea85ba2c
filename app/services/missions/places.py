"""Each mission's gazetteer: its bundled files plus the places its imports gave (the `place`
table), cached per process for `mission_cache_s` seconds. Used to locate alerts that name a
place, to name places in warning headlines, and by `GET /api/v1/places`."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import missions as repo
from app.services.geo.gazetteer import Gazetteer, Place, bundled_places
from app.services.missions import registry
from app.services.missions.profile import Mission
from app.settings import Settings

_CACHE: dict[Any, tuple[float, Gazetteer]] = {}


def clear_cache() -> None:
    _CACHE.clear()


async def missions_for(session: AsyncSession, settings: Settings, code: str | None
                       ) -> list[Mission]:
    """One mission, or (None) every stored mission and the default mission's profile."""
    if code is not None:
        found = await registry.stored(session, settings, code)
        return [found] if found is not None else [await registry.default(session, settings)]
    codes = registry._cached("codes", settings.mission_cache_s)
    if codes is None:
        codes = registry._put("codes", await repo.mission_codes(session), settings.mission_cache_s)
    out = []
    for c in codes:
        m = await registry.stored(session, settings, c)
        if m is not None:
            out.append(m)
    default = await registry.default(session, settings)
    if all(m.code != default.code for m in out):
        out.append(default)
    return out


async def gazetteer_for(session: AsyncSession, settings: Settings, missions: list[Mission]
                        ) -> Gazetteer:
    """The places of these missions (and the places shared by all), ambiguous names resolved
    inside the area of the first mission."""
    key = tuple((m.code, m.version) for m in missions)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    stored = [m.code for m in missions if m.stored]
    rows = await repo.places(session, [*stored, None])
    places: list[Place] = [Place(r["name"], r["latitude"], r["longitude"], r["precision"],
                                 r["source"], r["mission_code"], r["events"]) for r in rows]
    for m in missions:
        if m.gazetteer_files:
            places += bundled_places(settings.geodata_dir, tuple(m.gazetteer_files), m.code)
    inside = missions[0].covers if missions and missions[0].area is not None else None
    gaz = Gazetteer(places, inside=inside)
    if settings.mission_cache_s > 0:
        _CACHE[key] = (time.monotonic() + settings.mission_cache_s, gaz)
        if len(_CACHE) > 64:
            _CACHE.pop(next(iter(_CACHE)))
    return gaz


async def for_code(session: AsyncSession, settings: Settings, code: str | None) -> Gazetteer:
    return await gazetteer_for(session, settings, await missions_for(session, settings, code))
