from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.http import json_response
from app.api.problems import problem_response
from app.db import hosts_of
from app.deps import SessionDep, SettingsDep
from app.localdb import resolve_url
from app.schemas.platform import Health, Ping
from app.services.replication.status import database_status
from app.services.replication.status import ping as ping_writer
from app.services.threat import event_store

router = APIRouter(prefix="/api/v1", tags=["health"])
PING = b'{"status":"ok"}'


@router.get("/health", summary="Liveness, the writer, where reads go and the standby's lag "
                               "(no token needed)", response_model=Health)
async def health(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    status = await database_status(session, getattr(request.app.state, "read_route", None),
                                   hosts_of(resolve_url(settings)))
    if not status.writer_ok:
        return problem_response(503, "unavailable", "Service temporarily unavailable", status.reason,
                                instance=request.url.path, headers={"Retry-After": "2"},
                                extra=status.body)
    # The threat layer's event store (issue 16): "ready", "loading" (layers answered in SQL
    # meanwhile) or "off"; its warm-up of the default layers: "warming", "settling", "done",
    # "pending" or "off", and how many warm-ups have completed.
    warmup = getattr(request.app.state, "threat_warmup", None)
    return json_response({"status": "ok", **status.body,
                          "threat_event_store": event_store.status(),
                          "threat_warmup": "off" if warmup is None else warmup.state(),
                          "threat_warmups": 0 if warmup is None else warmup.warmed})


@router.get("/health/ping", response_model=Ping,
            summary="One database round trip (SELECT 1), no token needed: a load balancer's "
                    "check and the alert benchmark's baseline")
async def ping(session: SessionDep) -> Response:
    await ping_writer(session)
    return Response(PING, media_type="application/json")
