"""Impact of responses and patrols (difference in differences; an association, not a proof)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.http import json_response
from app.deps import SessionDep, SettingsDep, TimeWindow, require
from app.domain import Role
from app.schemas.loop import ImpactReport
from app.services.auth import Principal
from app.services.impact import service

router = APIRouter(prefix="/api/v1", tags=["responses"])


@router.get(
    "/impact",
    summary="Incidents and harm in the cells of closed responses and reported patrols before and "
    "after, beside matched comparison cells (difference in differences), per treatment and by "
    "field office, month, rule and desired effect; an association, not a proof of effect; a "
    "token limited to an area of responsibility sees that AOR's treatments only",
    response_model=ImpactReport,
)
async def impact(
    session: SessionDep,
    settings: SettingsDep,
    window: TimeWindow,
    who: Annotated[Principal, Depends(require(Role.admin, Role.analyst, Role.operations))],
) -> Response:
    return json_response(await service.compute(session, settings, start=window[0], end=window[1],
                                               now=datetime.now(UTC), who=who))
