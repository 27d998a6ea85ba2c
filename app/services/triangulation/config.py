"""The analyst-editable parts of triangulation: the actor alias table and per-mission
thresholds (the settings give the defaults)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.repositories import audit
from app.repositories import triangulation as repo
from app.schemas.triangulation import AliasCreate, ThresholdsUpdate
from app.services.auth import Principal
from app.services.triangulation.matcher import Thresholds
from app.services.triangulation.names import normalise
from app.services.triangulation.service import MatchConfig


async def list_aliases(session: AsyncSession, mission: str | None) -> list[dict[str, Any]]:
    return await repo.aliases(session, mission)


async def add_alias(session: AsyncSession, body: AliasCreate, who: Principal) -> dict[str, Any]:
    for field in ("alias", "canonical"):
        if not normalise(getattr(body, field)):
            raise InvalidInput(f"{field} names no actor once descriptors are removed",
                               errors=[{"pointer": f"/body/{field}",
                                        "detail": "names no actor (e.g. only 'unidentified')"}])
    if body.valid_from and body.valid_to and body.valid_to < body.valid_from:
        raise InvalidInput("valid_to is before valid_from",
                           errors=[{"pointer": "/body/valid_to", "detail": "before valid_from"}])
    row = await repo.add_alias(session, mission=body.mission, alias=body.alias.strip(),
                               canonical=body.canonical.strip(), valid_from=body.valid_from,
                               valid_to=body.valid_to, actor=who.actor)
    if row is None:
        raise Conflict("this alias already exists for the mission and date",
                       errors=[{"pointer": "/body/alias", "detail": "already present"}])
    await audit.record(session, actor=who.actor, action="create", object_type="actor_alias",
                       object_id=str(row["id"]), after=row)
    await session.commit()
    return row


async def delete_alias(session: AsyncSession, alias_id: uuid.UUID, who: Principal) -> None:
    row = await repo.delete_alias(session, alias_id)
    if row is None:
        raise NotFound(f"no actor alias with id {alias_id}")
    await audit.record(session, actor=who.actor, action="delete", object_type="actor_alias",
                       object_id=str(alias_id), before=row)
    await session.commit()


async def get_thresholds(session: AsyncSession, mission: str | None, config: MatchConfig
                         ) -> dict[str, Any]:
    row = await repo.thresholds(session, mission)
    th = config.thresholds(row)
    return {"mission": mission, "auto_link": th.auto_link, "review": th.review,
            "source": "mission" if row is not None and row["mission_code"] is not None
            else "all missions" if row is not None else "settings"}


async def set_thresholds(session: AsyncSession, body: ThresholdsUpdate, who: Principal,
                         config: MatchConfig) -> dict[str, Any]:
    Thresholds(body.auto_link, body.review)  # 422 with a pointer when out of range or order
    before = await get_thresholds(session, body.mission, config)
    await repo.set_thresholds(session, body.mission, body.auto_link, body.review, who.actor)
    await audit.record(session, actor=who.actor, action="update", object_type="triangulation",
                       object_id=body.mission or "*", before=before,
                       after={"auto_link": body.auto_link, "review": body.review})
    await session.commit()
    return await get_thresholds(session, body.mission, config)
