"""Alert, warning and response request models, and the normalised alert every format maps to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.domain import Category
from app.schemas.common import GeoJSONArea, ObservedAt, RequestModel

Format = Literal["json", "cap", "sms"]
ALL_FORMATS: tuple[Format, ...] = ("json", "cap", "sms")
ResponseType = Literal[
    "patrol", "quick_reaction_force", "civil_affairs_engagement", "referral_to_partner", "none"
]
DelayReason = Literal[
    "no_air_asset",
    "road_or_access_denied",
    "awaiting_authorisation",
    "insufficient_troops",
    "weather_season",
    "other",
]
WarningTarget = Literal["acknowledged", "responded", "closed", "cancelled", "expired"]


@dataclass
class AlertInput:
    """One alert, whatever format it came in."""

    format: str
    text: str
    observed_at: datetime | None = None
    category: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_m: int = 0
    place: str | None = None
    language: str | None = None
    reporter_contact: str | None = None
    sender: str | None = None  # SMS sender number: only a keyed hash is stored
    external_id: str | None = None
    area: dict[str, Any] | None = None
    location_source: str = "given"
    extra: dict[str, Any] = field(default_factory=dict)


class _Point(RequestModel):
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)

    @model_validator(mode="after")
    def _pair(self) -> _Point:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together")
        return self


class AlertJson(_Point):
    text: str = Field(min_length=1, max_length=5000)
    category: Category | None = None
    observed_at: ObservedAt | None = None
    place: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
    reporter_contact: str | None = Field(
        default=None, max_length=200, description="Protected: visible to analysts only"
    )
    external_id: str | None = Field(default=None, max_length=200)


class SmsForm(RequestModel):
    model_config = ConfigDict(extra="ignore")  # gateways add fields of their own

    sender: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=1600)
    received_at: ObservedAt | None = None


class AlertLocate(_Point):
    place: str | None = Field(default=None, max_length=200)
    category: Category | None = None
    comment: str | None = Field(default=None, max_length=2000)


class AlertMerge(RequestModel):
    incident_id: UUID
    comment: str | None = Field(default=None, max_length=2000)


class AlertDismiss(RequestModel):
    reason: str = Field(min_length=1, max_length=2000)


class IntegrationCreate(RequestModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w .:-]+$")
    formats: list[Format] = Field(default_factory=lambda: list(ALL_FORMATS), min_length=1)
    require_signature: bool = True
    section: str = "civil_affairs"
    area: GeoJSONArea | None = Field(
        default=None, description="GeoJSON Polygon or MultiPolygon (WGS84) the integration covers")
    mission: str | None = Field(default=None, max_length=32,
                                description="the mission whose gazetteer and languages read its "
                                            "alerts (default: every mission's)")


class WarningStatusChange(RequestModel):
    status: WarningTarget
    comment: str | None = Field(default=None, max_length=2000)


class ResponseCreate(RequestModel):
    type: ResponseType
    unit: str | None = Field(default=None, max_length=200)
    acknowledged_at: ObservedAt | None = None
    dispatched_at: ObservedAt | None = None
    on_scene_at: ObservedAt | None = None
    outcome: str | None = Field(default=None, max_length=5000)
    delay_reasons: list[DelayReason] = Field(default_factory=list, max_length=6)
    delay_note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _order(self) -> ResponseCreate:
        steps = [
            ("acknowledged_at", self.acknowledged_at),
            ("dispatched_at", self.dispatched_at),
            ("on_scene_at", self.on_scene_at),
        ]
        given = [(n, t) for n, t in steps if t is not None]
        for (n1, t1), (n2, t2) in zip(given, given[1:], strict=False):
            if t2 < t1:
                raise ValueError(f"{n2} must not be before {n1}")
        if self.type == "none" and (self.dispatched_at or self.on_scene_at):
            raise ValueError("a response of type none has no dispatch or arrival")
        return self


class WebhookCreate(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://")


# --- responses (documented shapes; routers build them as plain dicts) ------------------------


class AlertAccepted(BaseModel):
    """What an integration learns of its alert: stored, and whether it could be located."""

    id: UUID
    status: Literal["new"]
    triaged: bool
    needs_location: bool


class AlertPublic(BaseModel):
    """An alert as staff see it; `reporter_contact` is for admins and analysts only."""

    id: UUID
    integration_id: UUID
    format: Format
    status: Literal["new", "linked", "dismissed"]
    category: str
    text: str
    language: str | None = None
    observed_at: datetime
    received_at: datetime
    longitude: float | None = None
    latitude: float | None = None
    location_radius_m: int
    location_source: str
    h3_cell: str | None = None
    place_name: str | None = None
    needs_location: bool
    external_id: str | None = None
    area: dict[str, Any] | None = None
    incident_id: UUID | None = None
    opened_incident: bool
    collapsed_into: UUID | None = None
    triage: dict[str, Any] | None = Field(
        default=None, description="the triage outcome; action `error` when it was quarantined")
    triaged: bool
    updated_at: datetime
    reporter_contact: str | None = Field(default=None, description="admins and analysts only")


class AlertPage(BaseModel):
    items: list[AlertPublic]
    next: str | None
    numberReturned: int  # noqa: N815 (OGC spelling)


class IntegrationCreated(BaseModel):
    id: UUID
    name: str
    formats: list[Format]
    token: str = Field(description="shown once")
    signing_secret: str = Field(description="shown once")


class IntegrationPublic(BaseModel):
    id: UUID
    name: str
    formats: list[str]
    require_signature: bool
    section: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    has_area: bool


class IntegrationList(BaseModel):
    items: list[IntegrationPublic]


class IntegrationRevoked(BaseModel):
    name: str
    revoked: Literal[True]


class WarningProperties(BaseModel):
    rule: str
    status: Literal["active", "acknowledged", "responded", "closed", "cancelled", "expired"]
    h3_cell: str | None
    category: str | None
    severity: str
    urgency: str
    certainty: str
    headline: str
    description: str
    alert_ids: list[str]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    acknowledged_at: datetime | None = None
    closed_at: datetime | None = None
    responses: list[dict[str, Any]] | None = Field(default=None, description="one warning only")


class WarningFeature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon")
    properties: WarningProperties


class WarningCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[WarningFeature]
    numberReturned: int  # noqa: N815


class ScanResult(BaseModel):
    raised: list[str] = Field(description="ids of the warnings raised")


class SubscriptionCreated(BaseModel):
    id: UUID
    name: str
    url: str
    secret: str = Field(description="signing secret, shown once")


class Delivery(BaseModel):
    id: UUID
    subscription_id: UUID
    warning_id: UUID
    event: str
    status: Literal["pending", "delivered", "failed"]
    attempt_count: int
    attempts: list[dict[str, Any]]
    next_attempt_at: datetime | None
    created_at: datetime


class DeliveryList(BaseModel):
    items: list[Delivery]


class ResponseRecorded(BaseModel):
    id: UUID
    warning_id: UUID
    warning_status: str


class StepTimes(BaseModel):
    n: int
    median: float | None
    p90: float | None


class NoResponse(BaseModel):
    count: int
    share: float | None


class ResponseMetrics(BaseModel):
    warnings: int
    unit: str
    time_to_acknowledge: StepTimes
    time_to_dispatch: StepTimes
    time_to_arrive: StepTimes
    no_response: NoResponse
    delay_reasons: dict[str, int]
    window: dict[str, Any]
