"""Missions and their areas of responsibility: /api/v1/missions (issue 13)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api import http
from app.deps import SessionDep, SettingsDep, require
from app.domain import Role
from app.schemas.missions import (
    AorImport,
    AorList,
    AorsImported,
    MissionCreate,
    MissionList,
    MissionPublic,
    MissionUpdate,
)
from app.services.auth import Principal
from app.services.missions import aor as aor_svc
from app.services.missions import registry as svc

router = APIRouter(prefix="/api/v1/missions", tags=["missions"])

READERS = (Role.admin, Role.analyst, Role.operations, Role.partner)


def _body(model: Any) -> dict[str, Any]:
    data = model.model_dump(exclude_unset=True)
    if "seasons" in data and data["seasons"] is not None:
        data["seasons"] = [{k: v for k, v in s.items() if v is not None} for s in data["seasons"]]
    return data


@router.get("", summary="Missions: code, name, time zone, area (GeoJSON) and profile",
            response_model=MissionList)
async def list_missions(session: SessionDep, settings: SettingsDep,
                        who: Annotated[Principal, Depends(require(*READERS))]) -> Response:
    items = await svc.listing(session, settings)
    if who.mission is not None:
        items = [m for m in items if m["code"] == who.mission]
    default = await svc.default(session, settings)
    return http.json_response({"items": items, "default": default.code})


@router.post("", status_code=201, summary="Create a mission (admin)",
             response_model=MissionPublic)
async def create_mission(body: MissionCreate, session: SessionDep, settings: SettingsDep,
                         who: Annotated[Principal, Depends(require(Role.admin))]) -> Response:
    out = await svc.create(session, settings, _body(body), who.actor)
    return http.json_response(out, status=201)


@router.get("/{code}", summary="One mission's profile", response_model=MissionPublic)
async def get_mission(code: str, session: SessionDep, settings: SettingsDep,
                      who: Annotated[Principal, Depends(require(*READERS))]) -> Response:
    await svc.scope(session, settings, code, token_mission=who.mission, pointer="/path/code")
    return http.json_response(await svc.read(session, settings, code))


@router.patch("/{code}", summary="Change a mission's profile (admin); the code stays",
              response_model=MissionPublic)
async def update_mission(code: str, body: MissionUpdate, session: SessionDep,
                         settings: SettingsDep,
                         who: Annotated[Principal, Depends(require(Role.admin))]) -> Response:
    return http.json_response(await svc.update(session, settings, code, _body(body), who.actor))


@router.get("/{code}/aors", summary="The mission's sectors and field offices, with their bases",
            response_model=AorList)
async def list_aors(code: str, session: SessionDep, settings: SettingsDep,
                    who: Annotated[Principal, Depends(require(*READERS))]) -> Response:
    await svc.scope(session, settings, code, token_mission=who.mission, pointer="/path/code")
    items = await aor_svc.listing(session, code)
    return http.json_response({"mission": code.lower(), "items": items})


@router.post("/{code}/aors", status_code=201,
             summary="Import sectors and field offices (all or nothing; same name replaces)",
             response_model=AorsImported)
async def import_aors(code: str, body: AorImport, session: SessionDep, settings: SettingsDep,
                      who: Annotated[Principal, Depends(require(Role.admin))]) -> Response:
    items = [a.model_dump() for a in body.aors]
    out = await aor_svc.import_aors(session, settings, code, items, who.actor)
    return http.json_response(out, status=201)
