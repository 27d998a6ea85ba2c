"""Annotated dependencies shared by routers."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role
from app.errors import Forbidden, InvalidInput, Unauthorized
from app.repositories import tokens as token_repo
from app.schemas.params import parse_bbox, parse_instant
from app.services.auth import Principal, Revocations, hash_token, integration_principals
from app.services.credentials import tokens as credentials
from app.settings import Settings


# Every dependency here is `async def`, even the ones that only read an attribute: FastAPI runs a
# plain `def` dependency in its thread pool, a thread hop (and GIL hand-over) per dependency per
# request, which cost alert intake about a fifth of its CPU under load (docs/hardening.md).
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_workers(request: Request) -> Any:
    """The process's background workers (app.main.Workers), owned by the lifespan."""
    return request.app.state.workers


WorkersDep = Annotated[Any, Depends(get_workers)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def _credential(header: str) -> str | None:
    """The API token from `Authorization: Bearer <token>`, or from HTTP Basic with the token as
    the password and any user name (QGIS and GDAL can send only Basic to an OGC API server).
    None when the header carries neither. The token is never logged nor echoed."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, colon, password = decoded.partition(":")
        return password if colon and password else None
    return None


def _unauthorized(request: Request, detail: str) -> Unauthorized:
    exc = Unauthorized(detail)
    # Map clients (QGIS, GDAL) are offered Basic too; elsewhere a Basic challenge would make
    # browsers pop up a login dialog over the map page's own token prompt.
    if request.url.path.startswith("/ogc"):
        exc.challenge = 'Bearer, Basic realm="kinga", charset="UTF-8"'
    return exc


async def get_read_session(request: Request, session: SessionDep) -> AsyncIterator[AsyncSession]:
    """A session for reads that may come from a standby (issue 20, docs/scale-out.md): the read
    engine when KINGA_DATABASE_READ_URL is set and its server is within the lag limit, else the
    writer's session (the same one the rest of the request uses: no second connection)."""
    reads = getattr(request.app.state, "read_route", None)
    if reads is None or not await reads.usable():
        yield session
        return
    async with reads.sessionmaker() as read_session:
        yield read_session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]


async def authenticate(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    token = _credential(request.headers.get("authorization", ""))
    if token is None:
        raise _unauthorized(request, "send an API token as 'Authorization: Bearer <token>' or as "
                                     "the password of HTTP Basic authentication (any user name)")
    token_hash = hash_token(token, settings.token_pepper.get_secret_value())
    principal = integration_principals.get(
        token_hash, Revocations.cache_ttl(settings.integration_auth_cache_s))
    if principal is None:
        found = await token_repo.find_active(session, token_hash)
        # The lookup is by keyed hash, so its timing says nothing about the token; the digest
        # comparison is constant-time all the same.
        if found is None or not hmac.compare_digest(found.token_hash, token_hash):
            raise _unauthorized(request, "the token is unknown or revoked")
        principal = Principal(id=str(found.id), name=found.name, role=Role(found.role),
                              expires_at=found.expires_at, mission=found.mission_code,
                              aor_id=found.aor_id)
        if principal.role is Role.integration:  # alert intake: see docs/alerts.md
            integration_principals.put(token_hash, principal)
    await credentials.admit(session, principal, settings)  # expiry; last use, batched
    request.state.principal = principal
    if request.method in ("GET", "HEAD") and getattr(request.app.state, "read_route", None):
        # issue 20: the token is checked on the writer (a revoke holds at once); a read served by
        # a standby then gives the writer connection back instead of holding it to the end.
        await session.rollback()
    return principal


def require(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency: the caller must hold one of these roles. Each endpoint declares its roles."""

    async def _check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(
                f"the {principal.role.value} role may not use this endpoint "
                f"(allowed: {', '.join(r.value for r in roles)})"
            )
        return principal

    _check.roles = roles  # type: ignore[attr-defined]
    return _check



async def BBoxDep(bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat")] = None
            ) -> tuple[float, float, float, float] | None:
    return parse_bbox(bbox)


BBox = Annotated[tuple[float, float, float, float] | None, Depends(BBoxDep)]



async def time_window(
    start: Annotated[str | None, Query(description="ISO date or date-time (inclusive)")] = None,
    end: Annotated[str | None, Query(description="ISO date or date-time (inclusive)")] = None,
) -> tuple[datetime | None, datetime | None]:
    s = parse_instant(start, "start")
    e = parse_instant(end, "end", end_of_day=True)
    if s and e and e < s:
        raise InvalidInput("end is before start",
                           errors=[{"pointer": "/query/end", "detail": "must not be before start"}])
    return s, e


TimeWindow = Annotated[tuple[datetime | None, datetime | None], Depends(time_window)]


MissionParam = Annotated[str | None, Query(max_length=32, description="mission code: clip the "
                                           "answer to its area of operations")]
AorParam = Annotated[str | None, Query(max_length=200, description="area of responsibility (name "
                                       "or id) inside the mission: clip the answer to it")]


async def mission_scope(who: Annotated[Principal, Depends(authenticate)], session: SessionDep,
                        settings: SettingsDep, mission: MissionParam = None,
                        aor: AorParam = None) -> Any:
    """The mission (and AOR) a GET is about: `mission=`/`aor=`, else the token's, else the
    default mission's profile without clipping (app.services.missions.registry)."""
    from app.services.missions import registry

    return await registry.scope(session, settings, mission, aor=aor, token_mission=who.mission,
                                token_aor=who.aor_id)


ScopeDep = Annotated[Any, Depends(mission_scope)]


async def body_scope(session: AsyncSession, settings: Settings, who: Principal,
                     mission: str | None, aor: str | None = None) -> Any:
    """The same for a POST body's `"mission"` / `"aor"`."""
    from app.services.missions import registry

    return await registry.scope(session, settings, mission, aor=aor, token_mission=who.mission,
                                token_aor=who.aor_id, pointer="/body/mission")
