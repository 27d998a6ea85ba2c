"""Documented shapes of the platform responses: map sign-in, reach rings, quarantine."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class MapSession(BaseModel):
    name: str
    role: str
    mission: dict[str, Any] | None = Field(default=None,
                                           description="code, name, timezone, map_view")
    poll_s: int | None = Field(default=None, description="the workbench queues' poll interval")
    ack_minutes: int | None = Field(default=None,
                                    description="acknowledgement target for warnings without a deadline")


class BaseReach(BaseModel):
    as_of: str
    bases: dict[str, dict[str, float]] = Field(description="base id → {mode: reach in km}")


class QuarantinedRow(BaseModel):
    id: UUID
    source: str = Field(description="what set it aside: alert_triage, …")
    object_type: str
    object_id: str
    error: str
    detail: dict[str, Any] | None
    created_at: datetime


class QuarantinePage(BaseModel):
    items: list[QuarantinedRow]
    next: str | None
    numberReturned: int  # noqa: N815


class CountryOutlines(BaseModel):
    type: str = Field(description="FeatureCollection")
    features: list[dict[str, Any]]


class Health(BaseModel):
    status: str
    database: str
    postgis: str
    incidents: int
    writer: dict[str, Any]
    reads: dict[str, Any]
    threat_event_store: str  # "ready", "loading" (layers answered in SQL meanwhile) or "off"
    threat_warmup: str  # the default layers' warm-up: warming, settling, done, pending or off
    threat_warmups: int  # warm-ups completed since start-up (each loads the store afresh)


class Ping(BaseModel):
    status: str
