"""API tokens (admin): /api/v1/tokens — list without secrets, create (shown once), revoke."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.http import created, json_response
from app.deps import SessionDep, SettingsDep, require
from app.domain import Role
from app.schemas.tokens import TokenCreate, TokenCreated, TokenListed, TokenPage
from app.services.auth import Principal
from app.services.credentials import tokens as svc

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])
Admin = Annotated[Principal, Depends(require(Role.admin))]


@router.get("", summary="Tokens: name, role, created, expires, last used, revoked (no secrets)",
            response_model=TokenPage)
async def list_tokens(session: SessionDep, who: Admin) -> Response:
    return json_response({"items": await svc.listing(session)})


@router.post("", status_code=201, response_model=TokenCreated,
             summary="Create a token; it is shown once and stored only hashed")
async def create_token(body: TokenCreate, session: SessionDep, settings: SettingsDep,
                       who: Admin) -> Response:
    row, token = await svc.create(session, settings, name=body.name, role=body.role,
                                  expires_days=body.expires_days, actor=who.actor)
    return created({**row, "token": token}, "tokens")


@router.delete("/{token_id}", response_model=TokenListed,
               summary="Revoke a token (and its integration); refused by every process at once")
async def revoke_token(token_id: uuid.UUID, session: SessionDep, who: Admin) -> Response:
    return json_response(await svc.revoke(session, token_id, who.actor))
