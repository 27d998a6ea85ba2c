from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from app.deps import SessionDep
from app.repositories import health as repo
from app.services.geo.geojson import json_response
from app.services.threat import event_store

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health", summary="Liveness and database check (no token needed)")
async def health(session: SessionDep) -> Response:
    info = await repo.check(session)
    # The threat layer's event store (issue 16): "ready", "loading" (layers answered in SQL
    # meanwhile) or "off".
    return json_response({"status": "ok", "database": "ok", **info,
                          "threat_event_store": event_store.status()})
