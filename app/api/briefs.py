"""Generated situation briefs: /api/v1/briefs (JSON, HTML, PDF)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app.api.http import created, json_response
from app.deps import ReadSessionDep, SessionDep, SettingsDep, require
from app.domain import Role
from app.errors import InvalidInput
from app.openapi import media
from app.schemas.briefs import Brief, BriefKeep, BriefKept, BriefRecords
from app.services.auth import Principal
from app.services.briefs import service as svc

router = APIRouter(prefix="/api/v1/briefs", tags=["briefs"])

READERS = (Role.admin, Role.analyst, Role.operations, Role.partner)
KEEPERS = (Role.admin, Role.analyst)
CONTENT: dict[str, Any] = {"application/json": media(Brief), "text/html": {}, "application/pdf": {}}


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _respond(r: svc.Rendered, *, download: bool) -> Response:
    disposition = "attachment" if download else "inline"
    return Response(r.body, media_type=r.media_type,
                    headers={"Content-Disposition": f'{disposition}; filename="{r.filename}"'})


@router.get("", summary="Generate a situation brief for a day or a week (JSON, HTML or PDF)",
            response_class=Response, responses={200: {"content": CONTENT}})
async def brief(
    request: Request, session: ReadSessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*READERS))],
    period: Annotated[str, Query(description="day or week")] = "week",
    as_of: Annotated[date | None, Query(description="last day covered, YYYY-MM-DD in mission "
                                        "time; default yesterday")] = None,
    mission: Annotated[str | None, Query(max_length=40)] = None,
    aor: Annotated[str | None, Query(max_length=100, description="a field office's or "
                                     "sector's area of responsibility")] = None,
    f: Annotated[str, Query(description="json, html or pdf")] = "json",
    edition: Annotated[str | None, Query(description="full (staff) or partner; partners always "
                                         "get the partner edition")] = None,
    charts: Annotated[bool, Query(description="draw the charts and the map")] = True,
) -> Response:
    """Built from the data at the time of the request (not kept: POST keeps one). Every
    statement links to the records behind it."""
    fmt = svc.check_format(f)
    ed = svc.edition_for(who.role, edition)
    b = await svc.generate(session, settings, period=period, as_of=as_of, mission=mission,
                           aor=aor, edition=ed, now=datetime.now(UTC), charts=charts,
                           token_mission=who.mission, token_aor=who.aor_id)
    return _respond(await svc.as_format(b, fmt, base_url=_base_url(request), settings=settings),
                    download=fmt == "pdf")


@router.post("", status_code=201, summary="Generate a brief and keep it as a dated record",
             response_model=BriefKept)
async def keep_brief(
    body: BriefKeep, session: SessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*KEEPERS))],
) -> Response:
    b = await svc.generate(session, settings, period=body.period, as_of=body.as_of,
                           mission=body.mission, aor=body.aor, edition=body.edition,
                           now=datetime.now(UTC), token_mission=who.mission,
                           token_aor=who.aor_id, pointer="/body/mission")
    await svc.keep(session, b, actor=who.actor, scheduled=False)
    return created({"id": b["id"], "title": b["content"]["title"]}, "briefs")


@router.get("/records", summary="Kept briefs (scheduled and asked for), newest first",
            response_model=BriefRecords)
async def records(
    session: ReadSessionDep, who: Annotated[Principal, Depends(require(*READERS))],
    period: Annotated[str | None, Query(pattern="^(day|week)$")] = None,
    mission: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    items = await svc.listing(session, who.role, period=period, mission=mission, limit=limit)
    return json_response({"items": items, "numberReturned": len(items)})


@router.get("/{brief_id}", summary="A kept brief (JSON, HTML or PDF)", response_class=Response,
            responses={200: {"content": CONTENT}})
async def kept_brief(
    brief_id: str, request: Request, session: SessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*READERS))],
    f: Annotated[str, Query(description="json, html or pdf")] = "json",
) -> Response:
    try:
        ident = uuid.UUID(brief_id)
    except ValueError:
        raise InvalidInput("not a brief id", errors=[{"pointer": "/path/brief_id",
                                                      "detail": "a UUID"}]) from None
    fmt = svc.check_format(f)
    b = await svc.read(session, ident, who.role)
    return _respond(await svc.as_format(b, fmt, base_url=_base_url(request), settings=settings),
                    download=fmt == "pdf")
