"""Effects-based patrol plans: POST /api/v1/patrol-plans."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from app.api import http
from app.deps import SessionDep, SettingsDep, body_scope, require
from app.domain import Role
from app.openapi import alternatives
from app.schemas.patrols import PatrolPlan, PatrolPlanRequest, PlanningCollection
from app.services.auth import Principal
from app.services.planning import service as planning

router = APIRouter(prefix="/api/v1/patrol-plans", tags=["patrols"])

PLANNERS = (Role.admin, Role.analyst, Role.operations)


@router.post("", summary="Plan patrols for a horizon from the dated threat picture",
             response_model=PatrolPlan, responses=alternatives(PatrolPlan, PlanningCollection))
async def create_plan(body: PatrolPlanRequest, session: SessionDep, settings: SettingsDep,
                      who: Annotated[Principal, Depends(require(*PLANNERS))],
                      f: Annotated[str | None, Query(pattern="^(json|geojson)$")] = None,
                      accept: Annotated[str | None, Header()] = None) -> Response:
    """Returns the tasks (target cells, base and mode, desired effect and reason, time window,
    composition, priority), the summary with `threat_covered_share`, and the high-threat cells
    left uncovered. Nothing is stored; the same request and seed give the same plan.
    `?f=geojson` returns the task cells as one FeatureCollection."""
    scope = await body_scope(session, settings, who, body.mission, body.aor)
    result = await planning.plan(session, body, settings, who.role, scope)
    if http.wants_geojson(f, accept):
        feats = []
        for t in result["tasks"]:
            props = {k: v for k, v in t.items() if k != "cells"}
            feats += [{**c, "id": f"{t['id']}:{c['id']}", "properties": props}
                      for c in t["cells"]["features"]]
        return http.response(http.collection(feats, summary=result["summary"]))
    return http.json_response(result)
