"""Contingency scenarios from the forecast's upper range: POST /api/v1/scenarios."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import HTMLResponse, Response

from app.api import http
from app.deps import SessionDep, SettingsDep, body_scope, require
from app.domain import Role
from app.schemas.scenarios import ScenarioPack, ScenarioRequest
from app.services import scenarios
from app.services.auth import Principal
from app.services.scenarios.page import render

router = APIRouter(prefix="/api/v1/scenarios", tags=["scenarios"])

PLANNERS = (Role.admin, Role.analyst, Role.operations)


@router.post(
    "",
    summary="Scenario pack for a tabletop exercise: the worst plausible period of an area",
    response_model=ScenarioPack,
    responses={200: {"content": {"text/html": {}}}},
)
async def create_scenario(
    body: ScenarioRequest,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*PLANNERS))],
    f: Annotated[str | None, Query(pattern="^(json|html)$")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """The cells and categories of the worst plausible period (the forecast's 80 % upper
    bound), the bases and quick reaction forces in reach, and what closing each base would
    leave uncovered. Nothing is stored. `?f=html` (or `Accept: text/html`) returns a printable
    page."""
    scope = await body_scope(session, settings, who, body.mission)
    result = await scenarios.build(session, body, settings, scope)
    wants_html = f == "html" or (f is None and accept is not None and "text/html" in accept
                                 and "application/json" not in accept)
    if wants_html:
        return HTMLResponse(render(result))
    return http.json_response(result)
