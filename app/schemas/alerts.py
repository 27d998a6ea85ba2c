"""Alert, warning and response request models, and the normalised alert every format maps to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

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
# What a response found or achieved; the same vocabulary closes a warning (app.models.alerts).
Outcome = Literal[
    "deterred",
    "civilians_protected",
    "incident_found_reported",
    "nothing_found",
    "access_denied",
    "arrived_after_attack",
    "referred_to_partner",
    "false_alarm",
    "other",
]
Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
Mode = Literal["road", "foot", "air"]
STEPS = ("acknowledged_at", "dispatched_at", "on_scene_at", "completed_at")


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
    sender: str | None = None  # SMS sender number: stored encrypted, with a keyed hash
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
        default=None, max_length=200,
        description="Protected: encrypted at rest, read only through the audited reveal, "
                    "blanked after KINGA_REPORTER_CONTACT_TTL_DAYS")
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
    rate_limit_per_minute: int | None = Field(
        default=None, ge=1, le=1_000_000,
        description="alert intake limit (none by default); over it: 429 with Retry-After")
    rate_limit_burst: int | None = Field(default=None, ge=1, le=1_000_000,
                                         description="requests allowed at once (default: a "
                                                     "minute's worth)")
    ack_url: str | None = Field(default=None, min_length=8, max_length=2000, pattern=r"^https?://",
                                description="where Kinga POSTs signed acknowledgements to "
                                            "reporters (the SMS gateway; public address only)")
    acknowledge_reporters: bool = Field(default=True, description="false: never acknowledge")


class IntegrationUpdate(BaseModel):
    """Change an integration's intake limit or acknowledgement URL (null removes it), or opt its
    reporters out of acknowledgements."""

    model_config = ConfigDict(extra="forbid")

    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    rate_limit_burst: int | None = Field(default=None, ge=1, le=1_000_000)
    ack_url: str | None = Field(default=None, min_length=8, max_length=2000, pattern=r"^https?://")
    acknowledge_reporters: bool | None = None


class WarningStatusChange(RequestModel):
    status: WarningTarget
    comment: str | None = Field(default=None, max_length=2000)
    outcome: Outcome | None = Field(default=None, description="required to close")
    outcome_note: str | None = Field(default=None, max_length=5000)
    reason: str | None = Field(default=None, max_length=2000, description="required to cancel")


class FlashWarning(_Point):
    """A duty officer's warning: where (coordinates, a place name or an area), what, how grave."""

    model_config = ConfigDict(extra="forbid")

    place: str | None = Field(default=None, min_length=1, max_length=200)
    area: dict[str, Any] | None = Field(default=None, description="GeoJSON Polygon/MultiPolygon")
    headline: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=5000)
    category: Category | None = None
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    alert_ids: list[UUID] = Field(default_factory=list, max_length=200)
    incident_ids: list[UUID] = Field(default_factory=list, max_length=200)
    expires_at: AwareDatetime | None = None


class Escalation(BaseModel):
    """Raise a warning from one alert or incident; CAP fields default from its category."""

    model_config = ConfigDict(extra="forbid")

    headline: str | None = Field(default=None, min_length=1, max_length=300)
    severity: Severity | None = None
    urgency: Urgency | None = None
    certainty: Certainty | None = None
    comment: str | None = Field(default=None, max_length=2000)


class _ResponseFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit: str | None = Field(default=None, max_length=200)
    mode: Mode | None = None
    people: int | None = Field(default=None, ge=0, le=100_000)
    dispatched_at: ObservedAt | None = None
    on_scene_at: ObservedAt | None = None
    completed_at: ObservedAt | None = None
    outcome: Outcome | None = None
    outcome_note: str | None = Field(default=None, max_length=5000)
    delay_reasons: list[DelayReason] = Field(default_factory=list, max_length=6)
    delay_note: str | None = Field(default=None, max_length=2000)
    incident_ids: list[UUID] = Field(default_factory=list, max_length=50,
                                     description="incidents the response found (reported)")


class ResponseCreate(_ResponseFields):
    """A response and the steps known so far (acknowledged, dispatched, on scene, completed)."""

    type: ResponseType
    acknowledged_at: ObservedAt | None = None

    @model_validator(mode="after")
    def _none_goes_nowhere(self) -> ResponseCreate:
        if self.type == "none" and (self.dispatched_at or self.on_scene_at):
            raise ValueError("a response of type none has no dispatch or arrival")
        return self


class ResponseUpdate(_ResponseFields):
    """Later steps of a recorded response; a step once recorded does not change."""


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://")
    level: int = Field(default=0, ge=0, le=3, description="0: every warning event; N >= 1: "
                       "escalations that reach level N (overdue warnings)")
    mission: str | None = Field(default=None, max_length=32, description="the mission of `aor`")
    aor: str | None = Field(default=None, min_length=1, max_length=200, description=(
        "area of responsibility (name or id, with `mission`): hear the events of the warnings it "
        "owns or that an overdue escalation sent to it (level must then be 0)"))


class RevealRequest(BaseModel):
    """Why a reporter's identity is being read (kept in the audit trail)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500, pattern=r"^[^\x00-\x1f\x7f]+$")


class AcknowledgementRequest(BaseModel):
    """The message the reporter receives through the integration's gateway (e.g. one SMS)."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=480, pattern=r"^[^\x00-\x09\x0b-\x1f\x7f]+$")


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
    has_reporter_contact: bool | None = Field(
        default=None, description="admins and analysts only: a reporter contact is held (read it "
                                  "through the audited POST /api/v1/alerts/{id}/reporter-contact)")


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
    rate_limit_per_minute: int | None = None
    rate_limit_burst: int | None = None
    ack_url: str | None = None
    acknowledge_reporters: bool = True
    mission_code: str | None = None


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
    # Ownership by area of responsibility (issues 13, 15; staff only, not shown to partners).
    owner_reason: Literal["aor", "nearest_base"] | None = Field(
        default=None, description="why it has its owner: an area of responsibility holds it "
        "(aor), or none does and the nearest active base with capacity answers (nearest_base)")
    owner_aor_id: str | None = Field(default=None, description="the AOR that owns it")
    owner_base_id: str | None = Field(default=None, description="the base whose reach sets "
                                      "the on-scene target")
    owner_base: str | None = None
    escalation_level: int | None = Field(default=None, description="missed deadlines so far")
    escalated_to: EscalatedTo | None = Field(default=None, description=(
        "where the last overdue escalation went: the owning AOR's parent (level 1), its parent "
        "(level 2)…, or the mission's headquarters once the chain ends; None for a warning not "
        "escalated or without an AOR owner"))
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


class AorRef(BaseModel):
    id: str
    name: str
    kind: str
    mission_code: str


class SubscriptionCreated(BaseModel):
    id: UUID
    name: str
    url: str
    level: int = Field(default=0, description="0: every event (of its AOR's warnings, if scoped)")
    aor: AorRef | None = Field(default=None, description="the AOR it is scoped to")
    secret: str = Field(description="signing secret, shown once")


class EscalatedTo(BaseModel):
    """Where the last overdue escalation of an AOR-owned warning went."""

    id: str | None = Field(description="the AOR (None: the mission's headquarters)")
    name: str
    kind: Literal["sector", "field_office", "mission"]


class Delivery(BaseModel):
    id: UUID
    subscription_id: UUID | None
    warning_id: UUID | None
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
