"""Alerts: intake from integrations (JSON, CAP 1.2, SMS gateway) and staff review."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import Response

from app.api.http import conditional_json, json_response
from app.deps import ReadSessionDep, SessionDep, SettingsDep, WorkersDep, require
from app.domain import Role
from app.schemas.alerts import (
    AcknowledgementRequest,
    AlertAccepted,
    AlertDismiss,
    AlertLocate,
    AlertMerge,
    AlertPage,
    AlertPublic,
    RevealRequest,
)
from app.schemas.reporters import AcknowledgementSent, ReporterContact
from app.services.alerts import intake as svc
from app.services.alerts import review
from app.services.auth import Principal
from app.services.reporters import acknowledge
from app.services.reporters import contacts as reporters

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

STAFF = (Role.admin, Role.analyst, Role.operations)
REVEALERS = (Role.admin, Role.analyst)  # who may read a reporter's contact (audited)
CONFLICT: dict[int | str, Any] = {
    409: {"description": "The alert is still being triaged, or its status does not allow this"}}
BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "example": {
                        "latitude": 4.39,
                        "longitude": 18.56,
                        "text": "Armed men threatened the market",
                        "category": "threat_intimidation",
                        "observed_at": "2024-03-02T21:00:00Z",
                    },
                }
            },
            "application/cap+xml": {"schema": {"type": "string", "description": "OASIS CAP 1.2 alert"}},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "sender": {"type": "string"},
                        "text": {"type": "string"},
                        "received_at": {"type": "string", "format": "date-time"},
                    },
                }
            },
        },
    }
}


@router.post(
    "",
    status_code=201,
    openapi_extra=BODY_DOC,
    response_model=AlertAccepted,
    responses={
        409: {"description": "The Idempotency-Key was used with a different request, or its "
                             "first request is still in flight"},
        415: {"description": "Not JSON, CAP 1.2 XML or a URL-encoded SMS form"},
        429: {"description": "Too many alerts from this integration (when a limit is set)"},
    },
    summary="Post an alert (integrations only; signed; safe to retry with Idempotency-Key)",
)
async def post_alert(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(Role.integration))],
    workers: WorkersDep,
    idempotency_key: Annotated[str | None, Header()] = None,
    x_kinga_timestamp: Annotated[str | None, Header()] = None,
    x_kinga_signature: Annotated[str | None, Header()] = None,
) -> Response:
    body = await request.body()
    out = await svc.receive(
        session,
        settings,
        who,
        content_type=request.headers.get("content-type"),
        body=body,
        idempotency_key=idempotency_key,
        timestamp=x_kinga_timestamp,
        signature=x_kinga_signature,
    )
    if not out.replayed:
        workers.triage.notify()
    headers = {"Location": f"/api/v1/alerts/{out.body['id']}"}
    if out.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(out.body, status=out.status_code, headers=headers)


@router.get("", summary="Alerts for review, newest first", response_model=AlertPage)
async def list_alerts(
    request: Request,
    session: ReadSessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*STAFF))],
    status: Annotated[str | None, Query(pattern="^(new|linked|dismissed)(,(new|linked|dismissed))*$")] = None,
    needs_location: bool | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: str | None = None,
) -> Response:
    lim = min(limit or settings.page_default, settings.page_max)
    items, nxt = await review.list_page(
        session,
        who,
        statuses=status.split(",") if status else None,
        needs_location=needs_location,
        limit=lim,
        cursor=cursor,
    )
    next_url = str(request.url.include_query_params(cursor=nxt)) if nxt else None
    return conditional_json(request, {"items": items, "next": next_url, "numberReturned": len(items)})


@router.get("/{alert_id}", response_model=AlertPublic, summary="One alert")
async def get_alert(
    alert_id: uuid.UUID, session: SessionDep, who: Annotated[Principal, Depends(require(*STAFF))]
) -> Response:
    return json_response(await review.read(session, alert_id, who))


@router.post("/{alert_id}/confirm", summary="Confirm a new alert (locating it if needed)",
             response_model=AlertPublic, responses=CONFLICT)
async def confirm(
    alert_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*STAFF))],
    body: AlertLocate | None = None,
) -> Response:
    return json_response(await review.confirm(session, settings, alert_id, body or AlertLocate(), who))


@router.post("/{alert_id}/merge", summary="Attach the alert to an incident as a report",
             response_model=AlertPublic, responses=CONFLICT)
async def merge(
    alert_id: uuid.UUID,
    body: AlertMerge,
    session: SessionDep,
    who: Annotated[Principal, Depends(require(*STAFF))],
) -> Response:
    return json_response(await review.merge(session, alert_id, body.incident_id, body.comment, who))


@router.post("/{alert_id}/dismiss", summary="Dismiss a new alert (its own incident is rejected)",
             response_model=AlertPublic, responses=CONFLICT)
async def dismiss(
    alert_id: uuid.UUID,
    body: AlertDismiss,
    session: SessionDep,
    who: Annotated[Principal, Depends(require(*STAFF))],
) -> Response:
    return json_response(await review.dismiss(session, alert_id, body.reason, who))


@router.post("/{alert_id}/reporter-contact",
             summary="Read the reporter's contact of an alert (audited: who, when, why)",
             response_model=ReporterContact)
async def reveal_reporter_contact(
    alert_id: uuid.UUID,
    body: RevealRequest,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*REVEALERS))],
) -> Response:
    return json_response(await reporters.reveal_alert_contact(session, settings, alert_id, who,
                                                              body.reason))


@router.post("/{alert_id}/acknowledgement",
             summary="Send a message to the alert's reporter through its integration's ack_url "
                     "(the contact is decrypted for the gateway only; audited)",
             response_model=AcknowledgementSent)
async def acknowledge_reporter(
    alert_id: uuid.UUID,
    body: AcknowledgementRequest,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*STAFF))],
) -> Response:
    done = await acknowledge.send_acknowledgement(session, settings, alert_id, body.message,
                                                  actor=who.actor)
    return json_response({"alert_id": str(alert_id), "delivered": done.delivered,
                          "status_code": done.status_code, "error": done.error})
