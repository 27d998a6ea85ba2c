"""Integrations (alert networks, partner systems, SMS gateways): admin only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.http import json_response
from app.deps import SessionDep, SettingsDep, body_scope, require
from app.domain import Role
from app.schemas.alerts import (
    IntegrationCreate,
    IntegrationCreated,
    IntegrationList,
    IntegrationPublic,
    IntegrationRevoked,
    IntegrationUpdate,
)
from app.services.alerts import integrations as svc
from app.services.auth import Principal

router = APIRouter(prefix="/api/v1/integrations", tags=["integrations"])


@router.post(
    "",
    status_code=201,
    summary="Register an integration; its token and signing secret are shown once",
    response_model=IntegrationCreated,
    responses={409: {"description": "An integration with this name exists"}},
)
async def create(
    body: IntegrationCreate,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(Role.admin))],
) -> Response:
    new = await svc.create(
        session,
        name=body.name,
        formats=list(body.formats),
        pepper=settings.token_pepper.get_secret_value(),
        actor=who.actor,
        require_signature=body.require_signature,
        section=body.section,
        area_geojson=body.area,
        rate_limit_per_minute=body.rate_limit_per_minute,
        rate_limit_burst=body.rate_limit_burst,
        ack_url=body.ack_url,
        acknowledge_reporters=body.acknowledge_reporters,
        allow_private_targets=settings.webhook_allow_private_targets,
        mission=(await body_scope(session, settings, who, body.mission)).code
        if body.mission else None,
    )
    return json_response(
        {
            "id": str(new.id),
            "name": new.name,
            "formats": new.formats,
            "token": new.token,
            "signing_secret": new.signing_secret,
            "ack_url": body.ack_url,
            "acknowledge_reporters": body.acknowledge_reporters,
        },
        status=201,
    )


@router.get("", summary="Registered integrations (no secrets)", response_model=IntegrationList)
async def listing(session: SessionDep, who: Annotated[Principal, Depends(require(Role.admin))]) -> Response:
    return json_response({"items": await svc.listing(session)})


@router.patch("/{name}", summary="Change an integration's intake rate limit, acknowledgement URL or opt-out",
              response_model=IntegrationPublic)
async def update(
    name: str, body: IntegrationUpdate, session: SessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(Role.admin))],
) -> Response:
    return json_response(await svc.update(
        session, name, body.model_dump(exclude_unset=True), actor=who.actor,
        allow_private_targets=settings.webhook_allow_private_targets))


@router.post("/{name}/revoke", summary="Revoke an integration and its token",
             response_model=IntegrationRevoked)
async def revoke(
    name: str, session: SessionDep, who: Annotated[Principal, Depends(require(Role.admin))]
) -> Response:
    await svc.revoke(session, name, who.actor)
    return json_response({"name": name, "revoked": True})
