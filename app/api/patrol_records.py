"""Saved patrol plans (read, list, approve), patrol reports per task, and execution rates."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api import http
from app.deps import SessionDep, SettingsDep, require
from app.domain import Role
from app.schemas.patrols import (
    PatrolExecution,
    PatrolReportCreate,
    PatrolReportPublic,
    SavedPatrolPlan,
    SavedPlanList,
)
from app.services.auth import Principal
from app.services.patrols import execution, records
from app.services.warnings import need_to_know

router = APIRouter(prefix="/api/v1", tags=["patrols"])

PLANNERS = (Role.admin, Role.analyst, Role.operations)
APPROVERS = (Role.admin, Role.operations)


@router.get("/patrol-plans", summary="Saved patrol plans whose period overlaps start..end, newest first",
            response_model=SavedPlanList)
async def list_plans(
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*PLANNERS))],
    start: date | None = None,
    end: date | None = None,
    current: bool = Query(default=True, description="false: superseded versions too"),
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    items = await records.listing(session, start=start, end=end, current_only=current,
                                  limit=min(limit or settings.page_default, settings.page_max))
    return http.json_response({"items": items, "numberReturned": len(items)})


@router.get("/patrol-plans/{plan_id}", summary="A saved plan with its tasks and their reports",
            response_model=SavedPatrolPlan)
async def get_plan(plan_id: uuid.UUID, session: SessionDep,
                   who: Annotated[Principal, Depends(require(*PLANNERS))]) -> Response:
    return http.json_response(await records.read(session, plan_id))


@router.post("/patrol-plans/{plan_id}/approve", summary="Approve a saved plan (operations)",
             response_model=SavedPatrolPlan)
async def approve(plan_id: uuid.UUID, session: SessionDep,
                  who: Annotated[Principal, Depends(require(*APPROVERS))]) -> Response:
    return http.json_response(await records.approve(session, plan_id, who, now=datetime.now(UTC)))


@router.post("/patrol-plans/{plan_id}/tasks/{task_id}/report", status_code=201,
             summary="Report a task's patrol: done, partly or not_done (reason unless done)",
             response_model=PatrolReportPublic)
async def report(plan_id: uuid.UUID, task_id: str, body: PatrolReportCreate, session: SessionDep,
                 who: Annotated[Principal, Depends(require(*PLANNERS))]) -> Response:
    out = await records.report(session, plan_id, task_id, body, who, now=datetime.now(UTC))
    return http.json_response(out, status=201)


@router.get("/patrol-execution", summary="Planned, done, partly, not done and unreported tasks "
            "of current saved plans, by base and week, with the execution rate; a token limited to an "
            "area of responsibility sees its offices' tasks only",
            response_model=PatrolExecution)
async def patrol_execution(
    session: SessionDep,
    who: Annotated[Principal, Depends(require(*PLANNERS))],
    start: date | None = None,
    end: date | None = None,
    by: Annotated[str, Query(pattern="^(base|week|base_week)$")] = "base_week",
) -> Response:
    aors = await need_to_know.figures_aors(session, who)  # an AOR token: its offices' tasks only
    return http.json_response(await execution.patrol_execution(session, start, end, by, aors=aors))
