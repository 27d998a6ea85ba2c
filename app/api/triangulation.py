"""Triangulation: possible duplicates, the review queue, merge and unmerge, actor aliases and
thresholds. Analysts' work: partners and operations never see duplicates, scores or merges."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app.api.http import json_response
from app.deps import SessionDep, SettingsDep, require
from app.domain import Role
from app.errors import InvalidInput
from app.schemas.triangulation import (
    ActorAlias,
    AliasCreate,
    AliasList,
    Decision,
    DuplicateDecided,
    IncidentDuplicates,
    MergeRequest,
    MergeResult,
    QueuePage,
    ThresholdsInForce,
    ThresholdsUpdate,
    UnmergeResult,
)
from app.services.auth import Principal
from app.services.triangulation import config as config_svc
from app.services.triangulation import merging as svc
from app.services.triangulation.service import MatchConfig

router = APIRouter(prefix="/api/v1", tags=["triangulation"])

ANALYSTS = (Role.admin, Role.analyst)
Analyst = Annotated[Principal, Depends(require(*ANALYSTS))]


def _cursor(row: dict[str, object]) -> str:
    raw = orjson.dumps([row["created_at"].isoformat(), str(row["id"])])  # type: ignore[attr-defined]
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, ident = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(at), uuid.UUID(ident)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidInput("cursor is not one this service issued",
                           errors=[{"pointer": "/query/cursor", "detail": "invalid cursor"}]) from None


@router.get("/incidents/{incident_id}/duplicates",
            summary="Candidate incidents for this one, with score and evidence; its queue entries "
                    "and merge history", response_model=IncidentDuplicates)
async def incident_duplicates(incident_id: uuid.UUID, session: SessionDep, settings: SettingsDep,
                              who: Analyst,
                              limit: Annotated[int, Query(ge=1, le=100)] = 20) -> Response:
    return json_response(await svc.duplicates_of(session, incident_id,
                                                 MatchConfig.from_settings(settings), limit=limit))


@router.post("/incidents/{incident_id}/merge",
             summary="Merge this incident into another: its reports move, it is no longer counted",
             response_model=MergeResult)
async def merge_incident(incident_id: uuid.UUID, body: MergeRequest, session: SessionDep,
                         who: Analyst) -> Response:
    return json_response(await svc.merge(session, incident_id, body.into, who))


@router.post("/incidents/{incident_id}/unmerge",
             summary="Undo a merge: the reports come back, both incidents are restored",
             response_model=UnmergeResult)
async def unmerge_incident(incident_id: uuid.UUID, session: SessionDep, who: Analyst) -> Response:
    return json_response(await svc.unmerge(session, incident_id, who))


@router.get("/duplicates", summary="The possible-duplicates review queue", response_model=QueuePage)
async def list_duplicates(
    request: Request, session: SessionDep, settings: SettingsDep, who: Analyst,
    status: Literal["pending", "confirmed", "rejected"] | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: str | None = None,
) -> Response:
    lim = min(limit or settings.page_default, settings.page_max)
    items, last = await svc.queue_page(session, status=status, limit=lim,
                                       after=_decode(cursor) if cursor else None)
    nxt = (str(request.url.include_query_params(cursor=_cursor(last))) if last else None)
    return json_response({"items": items, "next": nxt, "numberReturned": len(items)})


@router.post("/duplicates/{duplicate_id}/confirm",
             summary="Confirm: the held account becomes a report of the candidate incident",
             response_model=DuplicateDecided)
async def confirm_duplicate(duplicate_id: uuid.UUID, session: SessionDep, who: Analyst,
                            body: Decision | None = None) -> Response:
    return json_response(await svc.confirm(session, duplicate_id, who, body.comment if body else None))


@router.post("/duplicates/{duplicate_id}/reject",
             summary="Reject: the held account is an incident of its own",
             response_model=DuplicateDecided)
async def reject_duplicate(duplicate_id: uuid.UUID, session: SessionDep, who: Analyst,
                           body: Decision | None = None) -> Response:
    return json_response(await svc.reject(session, duplicate_id, who, body.comment if body else None))


@router.get("/actor-aliases", summary="The actor alias table (a mission's rows and every mission's)",
            response_model=AliasList)
async def list_aliases(session: SessionDep, who: Analyst,
                       mission: Annotated[str | None, Query(max_length=32)] = None) -> Response:
    return json_response({"items": await config_svc.list_aliases(session, mission)})


@router.post("/actor-aliases", status_code=201, summary="Add an actor alias",
             response_model=ActorAlias)
async def add_alias(body: AliasCreate, session: SessionDep, who: Analyst) -> Response:
    return json_response(await config_svc.add_alias(session, body, who), status=201)


@router.delete("/actor-aliases/{alias_id}", status_code=204, summary="Remove an actor alias")
async def delete_alias(alias_id: uuid.UUID, session: SessionDep, who: Analyst) -> Response:
    await config_svc.delete_alias(session, alias_id, who)
    return Response(status_code=204)


@router.get("/triangulation/thresholds", summary="Auto-link and review thresholds in force",
            response_model=ThresholdsInForce)
async def get_thresholds(session: SessionDep, settings: SettingsDep, who: Analyst,
                         mission: Annotated[str | None, Query(max_length=32)] = None) -> Response:
    return json_response(await config_svc.get_thresholds(session, mission,
                                                         MatchConfig.from_settings(settings)))


@router.put("/triangulation/thresholds", summary="Set a mission's thresholds (admin)",
            response_model=ThresholdsInForce)
async def put_thresholds(body: ThresholdsUpdate, session: SessionDep, settings: SettingsDep,
                         who: Annotated[Principal, Depends(require(Role.admin))]) -> Response:
    return json_response(await config_svc.set_thresholds(session, body, who,
                                                         MatchConfig.from_settings(settings)))
