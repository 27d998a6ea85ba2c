"""Documented answers of the reporter-protection routes (built as plain dicts): a reporter's
identity read (audited) and an acknowledgement sent to a reporter."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from app.schemas.common import ResponseModel


class ReporterContact(ResponseModel):
    alert_id: UUID
    reporter_contact: str | None = Field(description="the decrypted contact (None: none kept, "
                                         "or purged after its retention)")


class ReporterRef(ResponseModel):
    incident_id: UUID
    report_id: UUID
    reporter_ref: str | None = Field(description="the decrypted reference (None: none kept, or "
                                     "purged after its retention)")


class AcknowledgementSent(ResponseModel):
    alert_id: UUID
    delivered: bool
    status_code: int | None = Field(description="the gateway's HTTP status, if it answered")
    error: str | None = Field(description="why it was not delivered")
