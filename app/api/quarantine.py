"""The quarantine (admins): rows a worker could not process, with their error."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app.api.http import json_response
from app.deps import SessionDep, SettingsDep, require
from app.domain import Role
from app.schemas.platform import QuarantinePage
from app.services import quarantine as svc
from app.services.auth import Principal

router = APIRouter(prefix="/api/v1/quarantine", tags=["quarantine"])


@router.get("", response_model=QuarantinePage,
            summary="Rows set aside by a worker (e.g. an alert triage could not process), newest "
                    "first, with their error")
async def listing(
    request: Request, session: SessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(Role.admin))],
    source: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$",
                                        description="e.g. alert_triage")] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    lim = min(limit or settings.page_default, settings.page_max)
    items, nxt = await svc.list_page(session, source=source, limit=lim, cursor=cursor)
    next_url = str(request.url.include_query_params(cursor=nxt)) if nxt else None
    return json_response({"items": items, "next": next_url, "numberReturned": len(items)})
