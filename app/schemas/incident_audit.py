"""The incident audit trail's response (GET /api/v1/incidents/{id}/audit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEntry(BaseModel):
    id: int = Field(description="event id; ascending in the order the changes were made")
    at: datetime
    actor: str = Field(description="token name (or import/integration actor) that made the change")
    action: str = Field(description="create, update, add_report, validated, approved, rejected, "
                                    "merge, merge_into, unmerge, unmerge_from, hold, …")
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class AuditTrail(BaseModel):
    incident_id: str
    status: str
    merged_into: str | None = None
    items: list[AuditEntry]
    next: str | None = Field(default=None, description="the next page, when there is one")
