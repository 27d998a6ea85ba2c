"""Effects-based patrol plans: POST /api/v1/patrol-plans."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from app.api import http
from app.deps import SessionDep, SettingsDep, body_scope, require
from app.domain import Role
from app.openapi import GEOJSON, alternatives, media
from app.schemas.patrols import PatrolPlan, PatrolPlanSave, PlanningCollection, SavedPatrolPlan
from app.services.auth import Principal
from app.services.patrols import records

router = APIRouter(prefix="/api/v1/patrol-plans", tags=["patrols"])

PLANNERS = (Role.admin, Role.analyst, Role.operations)


@router.post("", summary="Plan patrols for a horizon from the dated threat picture "
             "(\"save\": true keeps it as a record: 201 with its id)",
             response_model=PatrolPlan,
             responses={**alternatives(PatrolPlan, PlanningCollection),
                        201: {"description": "The plan, saved (\"save\": true)", "content": {
                            "application/json": media(SavedPatrolPlan),
                            GEOJSON: media(PlanningCollection)}}})
async def create_plan(body: PatrolPlanSave, session: SessionDep, settings: SettingsDep,
                      who: Annotated[Principal, Depends(require(*PLANNERS))],
                      f: Annotated[str | None, Query(pattern="^(json|geojson)$")] = None,
                      accept: Annotated[str | None, Header()] = None) -> Response:
    """Returns the tasks (target cells, base and mode, desired effect and reason, time window,
    composition, priority), the summary with `threat_covered_share`, and the high-threat cells
    left uncovered. The same request and seed give the same plan. Nothing is stored unless
    `"save": true`: then the plan is kept (versioned with `supersedes`, with its parameters and
    the data version of the threat layer it used), answered with 201 and its `id`, and its tasks
    take patrol reports. `?f=geojson` returns the task cells as one FeatureCollection."""
    scope = await body_scope(session, settings, who, body.mission, body.aor)
    result = await records.plan(session, body, settings, who, scope)
    status = 201 if body.save else 200
    if http.wants_geojson(f, accept):
        feats = []
        for t in result["tasks"]:
            props = {k: v for k, v in t.items() if k != "cells"}
            feats += [{**c, "id": f"{t['id']}:{c['id']}", "properties": props}
                      for c in t["cells"]["features"]]
        extra = {"plan_id": result["id"]} if body.save else {}
        return http.response(http.collection(feats, summary=result["summary"], **extra), status=status)
    return http.json_response(result, status=status)
