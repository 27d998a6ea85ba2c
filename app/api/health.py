"""Liveness: /api/v1/health (database and PostGIS) and /api/v1/health/ping (one round trip)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.responses import Response

from app.deps import SessionDep
from app.repositories import health as repo
from app.services.geo.geojson import json_response

router = APIRouter(prefix="/api/v1", tags=["health"])
PING = b'{"status":"ok"}'


class Health(BaseModel):
    status: str
    database: str
    postgis: str
    incidents: int


class Ping(BaseModel):
    status: str


@router.get("/health", summary="Liveness and database check (no token needed)",
            response_model=Health)
async def health(session: SessionDep) -> Response:
    info = await repo.check(session)
    return json_response({"status": "ok", "database": "ok", **info})


@router.get("/health/ping", response_model=Ping,
            summary="One database round trip (SELECT 1), no token needed: a load balancer's "
                    "check and the alert benchmark's baseline")
async def ping(session: SessionDep) -> Response:
    await repo.ping(session)
    return Response(PING, media_type="application/json")
