"""The gazetteer for clients: GET /api/v1/places?q= (issue 13)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api import http
from app.deps import ScopeDep, SessionDep, SettingsDep, require
from app.domain import Role
from app.schemas.missions import PlaceSearch
from app.services.auth import Principal
from app.services.missions import places

router = APIRouter(prefix="/api/v1/places", tags=["missions"])

READERS = (Role.admin, Role.analyst, Role.operations, Role.partner)


@router.get("", summary="Places matching a name (accent-, case- and spelling-tolerant), with "
                        "their coordinates, source, precision and match score",
            response_model=PlaceSearch)
async def search_places(
    session: SessionDep, settings: SettingsDep, scope: ScopeDep,
    who: Annotated[Principal, Depends(require(*READERS))],
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Response:
    """Searches the gazetteer of the mission asked for (`mission=`), else every mission's."""
    gaz = await places.for_code(session, settings, scope.code)
    hits = [m.as_dict() for m in gaz.search(q, limit)]
    return http.json_response({"q": q, "mission": scope.code, "items": hits})
