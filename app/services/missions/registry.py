"""Mission use cases: create, read, update (audited), and which mission a request means.

Which mission answers a request:
1. the one it names (`mission=CODE`, `"mission": "CODE"`), which must be stored;
2. otherwise the token's mission, when the token is limited to one;
3. otherwise the default: the stored mission named by KINGA_DEFAULT_MISSION, else the only stored
   mission, else the bundled profile file of that name (the demonstration mission), else a
   generic profile (UTC, no seasons, English).
Only a named (or token-scoped) mission clips answers to its area; the default lends its profile
(time zone, seasons, languages, CAP sender, map view, gazetteer) without hiding data.
Profiles are cached per process for `mission_cache_s` seconds (a change made through this
process clears its cache at once).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.repositories import audit
from app.repositories import missions as repo
from app.services.missions import profile as P
from app.settings import Settings

_CACHE: dict[Any, tuple[float, Any]] = {}


def clear_cache() -> None:
    _CACHE.clear()


def _cached(key: Any, ttl: float) -> Any:
    hit = _CACHE.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    return None


def _put(key: Any, value: Any, ttl: float) -> Any:
    if ttl > 0:
        _CACHE[key] = (time.monotonic() + ttl, value)
    return value


def from_row(row: dict[str, Any], settings: Settings) -> Mission:
    d = {**(row.get("profile") or {}), "code": row["code"], "name": row["name"],
         "timezone": row["timezone"], "countries": row.get("countries") or [],
         "area": row["area"]}
    return P.from_dict(d, settings.geodata_dir, prefix="/mission", stored=True,
                       version=str(row.get("version") or ""))


Mission = P.Mission


async def stored(session: AsyncSession, settings: Settings, code: str) -> Mission | None:
    key = ("stored", code)
    hit = _cached(key, settings.mission_cache_s)
    if hit is not None:
        return hit if isinstance(hit, P.Mission) else None
    row = await repo.get_mission(session, code)
    return _put(key, from_row(row, settings) if row else False, settings.mission_cache_s) or None


async def default(session: AsyncSession, settings: Settings) -> Mission:
    hit = _cached("default", settings.mission_cache_s)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    name = P.default_code(settings)
    found: Mission | None = None
    if name and name != "none":
        found = await stored(session, settings, name)
    if found is None:
        codes = await repo.mission_codes(session)
        if len(codes) == 1:
            found = await stored(session, settings, codes[0])
    if found is None and name and name != "none":
        found = P.bundled(name, settings.geodata_dir)
    return _put("default", found or P.GENERIC, settings.mission_cache_s)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Scope:
    """The mission a request is about and whether its answers are clipped to it."""

    mission: Mission
    clip: bool
    aor: dict[str, Any] | None = None

    @property
    def code(self) -> str | None:
        return self.mission.code if self.clip else None

    @property
    def area(self) -> dict[str, Any] | None:
        if self.aor is not None:
            return self.aor["area"]  # type: ignore[no-any-return]
        return self.mission.area if self.clip else None

    @property
    def key(self) -> tuple[Any, ...]:
        """What a cached answer depends on."""
        if not self.clip:
            return ()
        return (self.mission.code, self.mission.version,
                str(self.aor["id"]) if self.aor else None)


async def scope(session: AsyncSession, settings: Settings, code: str | None, *,
                aor: str | None = None, token_mission: str | None = None,
                token_aor: Any = None, pointer: str = "/query/mission") -> Scope:
    """Resolve a request's `mission=` / `aor=` (and the token's limits) to a Scope."""
    if code is not None:
        code = code.strip().lower()
        if token_mission is not None and code != token_mission:
            raise Forbidden(f"this token is limited to mission {token_mission!r}")
        found = await stored(session, settings, code) if P.CODE_PATTERN.match(code) else None
        if found is None and pointer.startswith("/path/"):  # the resource itself: not there
            raise NotFound(f"no mission {code!r} (GET /api/v1/missions lists them)")
        if found is None:
            raise InvalidInput(f"unknown mission {code!r}",
                               errors=[{"pointer": pointer, "detail": "no mission with this code "
                                        "(GET /api/v1/missions lists them)"}])
        mission, clip = found, True
    elif token_mission is not None:
        found = await stored(session, settings, token_mission)
        if found is None:
            raise Forbidden(f"this token's mission {token_mission!r} no longer exists")
        mission, clip = found, True
    else:
        mission, clip = await default(session, settings), False
    aor_row = None
    aor_pointer = pointer.rsplit("/", 1)[0] + "/aor"
    if aor is None and token_aor is not None:
        aor_row = await repo.get_aor(session, token_aor)
    elif aor is not None:
        if not clip:
            if not mission.stored:
                raise InvalidInput("an aor needs its mission", errors=[
                    {"pointer": aor_pointer, "detail": "give mission= with aor="}])
            clip = True
        aor_row = await _find_aor(session, mission.code, aor)
        if aor_row is None:
            raise InvalidInput(f"unknown area of responsibility {aor!r} in {mission.code}",
                               errors=[{"pointer": aor_pointer,
                                        "detail": "no such AOR in this mission"}])
        if token_aor is not None and aor_row["id"] != token_aor:
            raise Forbidden("this token is limited to another area of responsibility")
    return Scope(mission, clip, aor_row)


async def _find_aor(session: AsyncSession, code: str, ref: str) -> dict[str, Any] | None:
    import uuid

    try:
        aor_id = uuid.UUID(ref)
    except ValueError:
        return await repo.aor_by_name(session, code, ref)
    row = await repo.get_aor(session, aor_id)
    return row if row is not None and row["mission_code"] == code else None


async def profile_for(session: AsyncSession, settings: Settings, code: str | None) -> Mission:
    """The profile to use (time zone, seasons, languages…) without clipping semantics."""
    if code is None:
        return await default(session, settings)
    return await stored(session, settings, code) or await default(session, settings)


# ---- use cases ------------------------------------------------------------------------------

def present(m: Mission) -> dict[str, Any]:
    return m.as_dict()


async def listing(session: AsyncSession, settings: Settings) -> list[dict[str, Any]]:
    return [present(from_row(r, settings)) for r in await repo.list_missions(session)]


async def read(session: AsyncSession, settings: Settings, code: str) -> dict[str, Any]:
    row = await repo.get_mission(session, code.lower())
    if row is None:
        raise NotFound(f"no mission {code!r}")
    return present(from_row(row, settings))


def _values(m: Mission) -> dict[str, Any]:
    return {"code": m.code, "name": m.name, "area": m.area, "countries": m.countries,
            "timezone": m.timezone, "profile": m.profile_json()}


async def create(session: AsyncSession, settings: Settings, body: dict[str, Any], actor: str
                 ) -> dict[str, Any]:
    m = P.from_dict(body, settings.geodata_dir)
    if not await repo.insert_mission(session, _values(m), actor):
        raise Conflict(f"a mission {m.code!r} exists already; PATCH it instead",
                       errors=[{"pointer": "/body/code", "detail": "taken"}])
    await audit.record(session, actor=actor, action="create", object_type="mission",
                       object_id=m.code, after={k: v for k, v in _values(m).items()
                                                if k != "area"})
    await session.commit()
    clear_cache()
    return await read(session, settings, m.code)


async def update(session: AsyncSession, settings: Settings, code: str, changes: dict[str, Any],
                 actor: str) -> dict[str, Any]:
    row = await repo.get_mission(session, code.lower(), lock=True)
    if row is None:
        raise NotFound(f"no mission {code!r}")
    before = from_row(row, settings)
    if "code" in changes and str(changes["code"]).lower() != before.code:
        raise InvalidInput("a mission's code cannot change",
                           errors=[{"pointer": "/body/code", "detail": "read-only"}])
    merged = {**before.profile_json(), "code": before.code, "name": before.name,
              "timezone": before.timezone, "countries": before.countries, "area": before.area}
    if "countries" in changes and "area" not in changes:
        merged["area"] = None  # the new countries define the area
    merged.update({k: v for k, v in changes.items() if k != "code"})
    after = P.from_dict(merged, settings.geodata_dir)
    if after.area != before.area:
        outside = await repo.aors_outside(session, before.code, after.area or {})
        if outside:
            raise InvalidInput("the new area would leave areas of responsibility outside it",
                               errors=[{"pointer": "/body/area",
                                        "detail": f"AORs outside: {', '.join(outside)}"}])
    await repo.update_mission(session, before.code, _values(after))
    await audit.record(session, actor=actor, action="update", object_type="mission",
                       object_id=before.code, before={"changed": sorted(changes)},
                       after={k: v for k, v in changes.items() if k != "area"})
    await session.commit()
    clear_cache()
    return await read(session, settings, before.code)
