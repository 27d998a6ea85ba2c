"""Responses to warnings and the response metrics missions report upward."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.http import json_response
from app.deps import BBox, SessionDep, TimeWindow, require
from app.domain import Role
from app.schemas.alerts import ResponseCreate, ResponseMetrics, ResponseRecorded
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
    who: Annotated[Principal, Depends(require(*RESPONDERS))],
) -> Response:
    out = await svc.record(session, warning_id, body, who, now=datetime.now(UTC))
    return json_response(out, status=201)


@router.get(
    "/response-metrics",
    summary="Time to acknowledge / dispatch / arrive (median, p90), no-response share, "
    "delay reasons, for warnings raised in the window",
    response_model=ResponseMetrics,
)
async def metrics(
    session: SessionDep,
    bbox: BBox,
    window: TimeWindow,
    who: Annotated[Principal, Depends(require(*RESPONDERS))],
) -> Response:
    return json_response(await svc.compute(session, start=window[0], end=window[1], bbox=bbox))
