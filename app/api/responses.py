"""Responses to warnings and the response metrics missions report upward."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api.http import json_response
from app.deps import BBox, SessionDep, SettingsDep, TimeWindow, require
from app.domain import Role
from app.schemas.alerts import ResponseCreate, ResponseMetrics, ResponseRecorded, ResponseUpdate
from app.schemas.loop import ResponseStep
from app.services.auth import Principal
from app.services.warnings import responses as svc

router = APIRouter(prefix="/api/v1", tags=["responses"])

RESPONDERS = (Role.admin, Role.analyst, Role.operations)


@router.post(
    "/warnings/{warning_id}/responses",
    status_code=201,
    summary="Record a response (acknowledges the warning; a real response marks it responded)",
    response_model=ResponseRecorded,
    responses={409: {"description": "The warning is closed, cancelled or expired"}},
)
async def add_response(
    warning_id: uuid.UUID,
    body: ResponseCreate,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*RESPONDERS))],
) -> Response:
    out = await svc.record(session, settings, warning_id, body, who, now=datetime.now(UTC))
    return json_response(out, status=201)


@router.patch(
    "/warnings/{warning_id}/responses/{response_id}",
    summary="Record later steps of a response (on scene, completed with its outcome, delay "
    "reasons, incidents found); recorded steps do not change",
    response_model=ResponseStep,
)
async def update_response(
    warning_id: uuid.UUID,
    response_id: uuid.UUID,
    body: ResponseUpdate,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*RESPONDERS))],
) -> Response:
    out = await svc.update(session, settings, warning_id, response_id, body, who, now=datetime.now(UTC))
    return json_response(out)


@router.get(
    "/response-metrics",
    summary="Time to acknowledge / dispatch / arrive (median, p90), shares acknowledged and on "
    "scene within target, overdue and escalated, endings, delay reasons, alerts with no warning "
    "and no dismissal after 24 h, community acknowledgements sent, patrol execution; each with "
    "its counts, overall and by=field_office|month|rule|severity|source; a token limited to an "
    "area of responsibility counts that AOR's records only",
    response_model=ResponseMetrics,
)
async def metrics(
    session: SessionDep,
    settings: SettingsDep,
    bbox: BBox,
    window: TimeWindow,
    who: Annotated[Principal, Depends(require(*RESPONDERS))],
    by: Annotated[str | None, Query(pattern="^(field_office|month|rule|severity|source)$",
                                    description="also per field office (owner), month, rule, "
                                                "severity or source")] = None,
) -> Response:
    return json_response(await svc.compute(session, settings, start=window[0], end=window[1],
                                           bbox=bbox, by=by, who=who))
