from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from app.api.http import json_response
from app.deps import SessionDep
from app.repositories import health as repo

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health", summary="Liveness and database check (no token needed)")
async def health(session: SessionDep) -> Response:
    info = await repo.check(session)
    return json_response({"status": "ok", "database": "ok", **info})
