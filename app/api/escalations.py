"""Escalation of one alert or one incident into a warning (when no rule raised one)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.api.http import created
from app.deps import SessionDep, SettingsDep, require
from app.domain import Role
from app.schemas.alerts import Escalation
from app.schemas.loop import WarningRaised
from app.services.auth import Principal
from app.services.warnings import flash

router = APIRouter(prefix="/api/v1", tags=["warnings"])

STAFF = (Role.admin, Role.analyst, Role.operations)


@router.post("/alerts/{alert_id}/escalate", status_code=201,
             summary="Raise a warning from this alert (409: dismissed, a repeat, not located, "
             "or already in an open warning)", response_model=WarningRaised)
async def escalate_alert(alert_id: uuid.UUID, session: SessionDep, settings: SettingsDep,
                         who: Annotated[Principal, Depends(require(*STAFF))],
                         body: Escalation | None = None) -> Response:
    out = await flash.escalate_alert(session, settings, alert_id, body or Escalation(), who,
                                     now=datetime.now(UTC))
    return created(out, "warnings")


@router.post("/incidents/{incident_id}/escalate", status_code=201,
             summary="Raise a warning from this incident (409: rejected, or already in an open "
             "warning)", response_model=WarningRaised)
async def escalate_incident(incident_id: uuid.UUID, session: SessionDep, settings: SettingsDep,
                            who: Annotated[Principal, Depends(require(*STAFF))],
                            body: Escalation | None = None) -> Response:
    out = await flash.escalate_incident(session, settings, incident_id, body or Escalation(), who,
                                        now=datetime.now(UTC))
    return created(out, "warnings")
